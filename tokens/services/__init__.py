"""Writes of the tokens app, one module per area; import from the module you need:

- tokens.services.sessions: session_issue, account_sessions_revoke, refresh, revoke, ...
- tokens.services.multipurpose: email tokens, SMS OTPs, verification sends, outbox
"""
