from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal core"

    def ready(self) -> None:
        # Importing audit_actions registers the core audit actions.
        from portal import audit_actions, db  # noqa: F401

        db.connect_signals()
