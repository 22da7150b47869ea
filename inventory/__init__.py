"""Tenants, processing activities and data scans: the batch and scan APIs, their tasks and admin."""
