from django.apps import AppConfig


class TokensConfig(AppConfig):
    name = "tokens"
    verbose_name = "Sessions and multipurpose tokens"

    def ready(self) -> None:
        # The errors and their LoginRadius rows register here, before any request.
        from tokens import audit_actions, errors, subscribers  # noqa: F401
        from tokens.api import lr_errors  # noqa: F401

        subscribers.subscribe()
