"""Console screens, one module per screen family. Views read through selectors and write only
through services, as the API does; each checks the staff member's role and tenant permission
before anything runs."""
