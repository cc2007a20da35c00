"""The Celery app, configured so that a message is never lost to a dying worker."""

import os

from celery import Celery, signals

from portal import metrics

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    # Acknowledge only after the task ran, and requeue if the worker process dies mid-task,
    # so a SIGKILLed worker's message is delivered again. Tasks are idempotent for this.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    task_default_queue="portal",
)


def restore_sweep(visibility_timeout: int) -> dict[str, int]:
    """How often a worker looks for a dead worker's unacknowledged tasks: three times per
    visibility timeout, and never less often than kombu's own default (every 10th check of
    a 10-second timer, 100 s). Without this, a short visibility timeout still waits up to
    100 s before the task is delivered again."""
    sweep = min(max(visibility_timeout // 3, 1), 100)
    interval = min(sweep, 10)
    return {"unacked_restore_interval": interval, "unacked_restore_throttle": sweep // interval}


@app.on_after_configure.connect
def _configure_visibility_timeout(sender=None, **kwargs) -> None:
    # A module-level receiver: Celery holds signal receivers weakly, so a lambda would be
    # collected before the signal fires and the timeout silently left at Redis's default.
    from django.conf import settings

    # The visibility timeout must outlast the longest retry delay, or Redis would hand a
    # scheduled retry to a second worker while the first still holds it.
    timeout = max(settings.CELERY_VISIBILITY_TIMEOUT, settings.CELERY_MAX_RETRY_DELAY * 2)
    app.conf.broker_transport_options = {"visibility_timeout": timeout, **restore_sweep(timeout)}
    app.conf.result_backend_transport_options = {"visibility_timeout": timeout}


@signals.worker_init.connect
def _refuse_to_start_on_serious_checks(sender=None, **kwargs) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from portal.startup import refuse_to_start_on_serious_checks

    try:
        refuse_to_start_on_serious_checks()
    except ImproperlyConfigured as refusal:
        # Celery logs and swallows a receiver's exceptions; an exit is what stops the worker.
        raise SystemExit(str(refusal)) from refusal


app.autodiscover_tasks()
metrics.connect_celery_signals()  # task run times; a worker serves its pool's metrics
