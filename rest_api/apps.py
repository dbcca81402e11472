from django.apps import AppConfig


class RestApiConfig(AppConfig):
    name = "rest_api"
    verbose_name = "REST API"
