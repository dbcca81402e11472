"""``grpc_api.convert`` writes a ``Timestamp`` itself (protobuf's ``ToJsonString`` cost a fifth of converting an
event); its text must stay protobuf's, since it is what an event read back gives as ``timestamp``."""

from google.protobuf import timestamp_pb2
from hypothesis import example, given, settings
from hypothesis import strategies as st

from grpc_api.convert import message_to_dict
from grpc_api.generated import user_behavior_insights_pb2 as ubi

FIRST_SECOND, LAST_SECOND = -62_135_596_800, 253_402_300_799  # 0001-01-01T00:00:00Z, 9999-12-31T23:59:59Z
# Whole seconds and whole milli-, micro- and nanoseconds: 0, 3, 6 and 9 digits of fraction.
NANOS = st.integers(0, 999_999_999) | st.integers(0, 999).map(lambda n: n * 1_000_000) | st.integers(0, 999_999).map(
    lambda n: n * 1_000
)


@settings(max_examples=300, derandomize=True)
@given(seconds=st.integers(FIRST_SECOND, LAST_SECOND), nanos=NANOS)
@example(seconds=FIRST_SECOND, nanos=0)
@example(seconds=LAST_SECOND, nanos=999_999_999)
@example(seconds=-1, nanos=500_000_000)
def test_a_timestamp_converts_to_protobufs_own_json_text(seconds, nanos):
    timestamp = timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos)
    assert message_to_dict(ubi.Event(timestamp=timestamp)) == {"timestamp": timestamp.ToJsonString()}
