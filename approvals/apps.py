from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Four-eyes approvals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Event types, command types and domain errors are
        # registered before any request; the services declare what they record.
        from approvals import audit_actions, commands, errors, retention, services  # noqa: F401
        from approvals.api import lr_errors  # noqa: F401
        from approvals.api.representation import hold
        from portal import approval_gate

        # Native views of the sections hold gated commands through the core's slot.
        approval_gate.register(hold)
        # Kept results past their expiry are emptied by the hourly retention purge.
        retention.register()
