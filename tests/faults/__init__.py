"""Fault-injection tests: the real service against servers we may break.

The machine's PostgreSQL (5432) and Redis (6379) are shared, so nothing here ever stops them.
Faults are injected into a private PostgreSQL cluster and a private Redis that the tests start,
restart and stop themselves (`tests.faults.servers`).
"""
