from django.apps import AppConfig


class CustomObjectsConfig(AppConfig):
    name = "customobjects"
    verbose_name = "Account custom objects"

    def ready(self):
        from customobjects import audit_actions, commands  # noqa: F401
