from portal import audit

audit.register({})
