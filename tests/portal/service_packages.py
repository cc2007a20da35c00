"""Where services live: importing every module of these packages fills the declaration
registry (portal/events.py) that the event and command-input walkers check."""

SERVICE_PACKAGES = (
    "accounts.services",
    "security.services",
    "tokens.services",
    "roles.services",
    "customobjects.services",
    "portal.services",
    "portal.reason_presets",
    "portal.access_grants",
    "portal.personal_data",
    "portal.erasure",
    "flows",
    "webhooks.services",
    "jobs.services",
    "approvals.services",
)
