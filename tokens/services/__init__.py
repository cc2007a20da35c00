"""Writes of the tokens app, one package per half; import from the package you need:

- tokens.services.sessions: session_issue, account_sessions_revoke, refresh, revoke, ...
- tokens.services.multipurpose: email tokens, SMS OTPs, verification sends, the outbox
  and delivery
"""
