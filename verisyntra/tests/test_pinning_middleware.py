"""The pin-after-write middleware: after a request's first write, its later reads go to the primary."""

import pytest

from verisyntra.db.config import READ_ALIAS, WRITE_ALIAS

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=[READ_ALIAS, WRITE_ALIAS]),
    pytest.mark.urls("verisyntra.tests.urls"),
]


def test_reads_after_a_write_in_the_same_request_go_to_write(client):
    response = client.get("/read-write-read", {"write": "1"})
    assert response.json()["aliases"] == [READ_ALIAS, WRITE_ALIAS, WRITE_ALIAS]


def test_request_without_write_reads_from_read(client):
    response = client.get("/read-write-read")
    assert response.json()["aliases"] == [READ_ALIAS, READ_ALIAS]


def test_pin_does_not_outlive_its_request(client):
    client.get("/read-write-read", {"write": "1"})
    response = client.get("/read-write-read")
    assert response.json()["aliases"] == [READ_ALIAS, READ_ALIAS]
