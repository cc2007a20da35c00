"""The benchmark: seeding, the framework-floor views, and the load driver (see run.py)."""
