"""The tests' broker: Celery messages of a test run go to a Redis database of their own, so a
development worker (scripts/dev, on the configured broker) never takes them, nor a test worker
a development task."""

from __future__ import annotations

import uuid

import redis

from conftest import broker_url_for_tests
from inventory.tasks import process_data_scan
from verisyntra.celery import app as celery_app


def test_a_task_sent_by_the_tests_lands_in_the_tests_broker_database_not_the_configured_one(tests_broker):
    url, configured = tests_broker
    assert url != configured and celery_app.conf.broker_url == url
    queue = f"broker-isolation-{uuid.uuid4().hex[:8]}"
    process_data_scan.apply_async(args=[str(uuid.uuid4())], queue=queue)
    tests_db = redis.Redis.from_url(url)
    try:
        assert tests_db.llen(queue) == 1
        assert redis.Redis.from_url(configured).llen(queue) == 0
    finally:
        tests_db.delete(queue)


def test_the_tests_broker_is_database_15_of_the_configured_server(monkeypatch):
    monkeypatch.delenv("TEST_CELERY_BROKER_URL", raising=False)
    assert broker_url_for_tests("redis://10.0.0.5:6380/0") == "redis://10.0.0.5:6380/15"
    assert broker_url_for_tests("redis://:secret@cache:6379") == "redis://:secret@cache:6379/15"
    monkeypatch.setenv("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/9")
    assert broker_url_for_tests("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/9"
