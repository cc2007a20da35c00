from django.apps import AppConfig


class CustomObjectsConfig(AppConfig):
    name = "customobjects"
    verbose_name = "Account custom objects"
