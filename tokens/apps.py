from django.apps import AppConfig


class TokensConfig(AppConfig):
    name = "tokens"
    verbose_name = "Sessions and multipurpose tokens"

    def ready(self) -> None:
        from tokens import audit_actions, subscribers  # noqa: F401

        subscribers.subscribe()
