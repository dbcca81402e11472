from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "Relevance analytics"

    def ready(self):
        from django.contrib import admin

        # The admin's index leads to the analytics dashboard; Django's own admin/index.html is found before an
        # app's override of it (django.contrib.admin comes first in INSTALLED_APPS), so the site names the page.
        admin.site.index_template = "analytics/admin_index.html"
