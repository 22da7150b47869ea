"""The audit trail: one append-only row for every write through the API, a scan, the admin or a command."""
