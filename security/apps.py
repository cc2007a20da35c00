from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = "Account security"

    def ready(self) -> None:
        # The errors and their LoginRadius rows register here, before any request.
        from security import audit_actions, commands, errors, subscribers  # noqa: F401
        from security.api import lr_errors  # noqa: F401

        subscribers.subscribe()

        from accounts.extensions import register_search_filter
        from security.selectors import account_ids_by_mfa

        register_search_filter("has_mfa", account_ids_by_mfa)
