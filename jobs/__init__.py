"""Bulk jobs: one section command run per selected account, on Celery, with a report."""
