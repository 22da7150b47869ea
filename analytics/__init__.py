"""Read-only dashboards over a tenant's record of processing, served through the read pool."""
