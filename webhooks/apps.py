from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self):
        # The errors and their LoginRadius rows register here, before any request.
        from portal import events
        from webhooks import audit_actions, commands, errors, subscribers  # noqa: F401
        from webhooks.api import lr_errors  # noqa: F401

        events.subscribe_every_type(subscribers.relay_kick)
        # The deliveries retention purges, and the events the relay still needs (kept).
        from webhooks import retention

        retention.register()
