from django.apps import AppConfig


class TokensConfig(AppConfig):
    name = "tokens"
    verbose_name = "Sessions and multipurpose tokens"

    def ready(self) -> None:
        # The errors and their LoginRadius rows register here, before any request.
        from portal import slots
        from tokens import audit_actions, checks, commands, errors, subscribers  # noqa: F401
        from tokens import metrics as tokens_metrics
        from tokens.api import lr_errors  # noqa: F401
        from tokens.selectors import live_sessions_count
        from tokens.services.multipurpose import message_enqueue

        subscribers.subscribe()
        # What the sections reach without importing tokens (portal/slots.py).
        slots.register_message_queue(message_enqueue)
        slots.register_live_sessions_count(live_sessions_count)
        tokens_metrics.register()  # the outbox backlog, read at scrape time
