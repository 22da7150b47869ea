"""Pool and database health: health endpoints, metrics and `manage.py pool_report`."""
