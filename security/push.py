"""Push notifiers: how a push-approval challenge reaches the account's device.

The notifier class is named by the `SECURITY_PUSH_NOTIFIER` setting (a dotted path);
it receives the device's push address and a payload, and must not block for long.
"""

import logging

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("security.push")


class LogNotifier:
    """Records that a notification would be sent, without its address (embedded mode)."""

    def send(self, *, device_address: str, payload: dict) -> None:
        logger.info(
            "push challenge %s for account %s", payload.get("ChallengeId"), payload.get("Uid")
        )


def notifier():
    return import_string(getattr(settings, "SECURITY_PUSH_NOTIFIER", "security.push.LogNotifier"))()
