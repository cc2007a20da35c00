from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # The errors and their LoginRadius rows register here, before any request.
        from accounts import audit_actions, commands, errors, subscribers  # noqa: F401
        from accounts.api import lr_errors  # noqa: F401

        # A deleted account's events are erased in the deletion's transaction.
        subscribers.subscribe()
