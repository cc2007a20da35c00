from django.apps import AppConfig


class RolesConfig(AppConfig):
    name = "roles"
    verbose_name = "Roles management"

    def ready(self) -> None:
        from roles import audit_actions  # noqa: F401
