"""Benchmarks that run the real service (gunicorn, PostgreSQL, Celery) and write their results under docs/.

`python -m benchmarks.pools` is the pool-sizing benchmark; docs/benchmarks.md describes every benchmark and its results.
"""
