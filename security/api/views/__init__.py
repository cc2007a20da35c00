"""Account Security on the LoginRadius wire, one module per mechanism: sign-in, reauthentication,
factor setup by the account, passkeys, push approval, Duo, management-side resets and backup
codes; and the native resources (second factors, unlock, securing a compromised account, the
tenant's Duo application)."""
