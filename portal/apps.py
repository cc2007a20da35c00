from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal core"

    def ready(self) -> None:
        # Importing audit_actions registers the core audit actions.
        from portal import audit_actions, metrics, observability  # noqa: F401

        # The LoginRadius rows of core errors declared outside portal/errors.py.
        from portal.api import lr_errors  # noqa: F401

        # Metrics count domain events; error reporting and tracing start when configured.
        metrics.connect()
        observability.configure()
