from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Bulk jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The event types, command types and domain errors (and their LoginRadius answers)
        # are registered before any request; the services declare what they record.
        from jobs import audit_actions, commands, errors, retention, services  # noqa: F401
        from jobs.api import lr_errors  # noqa: F401

        # Finished jobs and their reports are purged after the tenant's retention.
        retention.register()
