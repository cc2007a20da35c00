from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = "Account security"

    def ready(self) -> None:
        from security import audit_actions, subscribers  # noqa: F401

        subscribers.subscribe()
