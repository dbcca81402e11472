"""What a server process reads now and then, whatever the number of requests, which statement counts leave out."""

from insights.models import Maintenance, Suppression

# The maintenance switch, at most once a second (insights/maintenance.py); an organisation's suppressed people,
# once every SUPPRESSION_CACHE_SECONDS (insights/suppressions.py); whether the tables are partitioned, once a
# process, on the first retry (insights/partitions.py).
READ_NOW_AND_THEN = (Maintenance._meta.db_table, Suppression._meta.db_table, "pg_partitioned_table")


def read_now_and_then(sql: str) -> bool:
    return any(table in sql for table in READ_NOW_AND_THEN)
