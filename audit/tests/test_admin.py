"""The audit trail in the admin: visible to staff, writable by nobody, superusers included; admin writes are audited."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from audit.tests.support import the_event
from inventory.models import DataScan, ScanStatus
from inventory.scan_services import data_scan_store
from inventory.tests.api_support import activities, member_of_new_tenant
from inventory.validation import activities_validate

pytestmark = pytest.mark.django_db(transaction=True, databases=["read", "write"])


@pytest.fixture
def tenant():
    return member_of_new_tenant("Công ty Quản Trị", f"quantri{uuid.uuid4().hex[:8]}").tenant


@pytest.fixture
def superuser_client():
    user = get_user_model().objects.create_superuser("auditor", "auditor@example.com", None)  # no hashing: force_login
    client = Client()
    client.force_login(user)
    return client


def test_the_list_and_a_row_show_without_any_way_to_write(tenant, superuser_client):
    event = AuditEvent.objects.using("write").get(tenant=tenant)
    changelist = superuser_client.get(reverse("admin:audit_auditevent_changelist"))
    assert changelist.status_code == 200
    page = changelist.content.decode()
    assert "tenant.create" in page and str(tenant.name) in page
    assert reverse("admin:audit_auditevent_add") not in page
    assert 'value="delete_selected"' not in page

    detail = superuser_client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    assert detail.status_code == 200
    html = detail.content.decode()
    assert 'name="_save"' not in html and reverse("admin:audit_auditevent_delete", args=[event.pk]) not in html
    assert "member_user_id" in html


def test_every_write_through_the_admin_is_refused(tenant, superuser_client):
    event = AuditEvent.objects.using("write").get(tenant=tenant)
    change = reverse("admin:audit_auditevent_change", args=[event.pk])
    answers = [
        superuser_client.get(reverse("admin:audit_auditevent_add")),
        superuser_client.post(reverse("admin:audit_auditevent_add"), {"action": "tenant.create"}),
        superuser_client.post(change, {"actor_username": "someone else", "_save": "Save"}),
        superuser_client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}),
        superuser_client.post(
            reverse("admin:audit_auditevent_changelist"), {"action": "delete_selected", "_selected_action": [str(event.pk)], "post": "yes"}
        ),
    ]
    assert [answer.status_code for answer in answers[:4]] == [403, 403, 403, 403]
    assert answers[4].status_code in (200, 302)  # the list ignores an action it does not offer
    assert AuditEvent.objects.using("write").get(pk=event.pk).actor_username == event.actor_username


def test_filters_and_search_find_a_tenants_rows(tenant, superuser_client):
    other = member_of_new_tenant("Công ty Bên Cạnh", f"bencanh{uuid.uuid4().hex[:8]}").tenant
    changelist = reverse("admin:audit_auditevent_changelist")
    filtered = superuser_client.get(
        changelist, {"tenant__id__exact": str(tenant.pk), "action__exact": "tenant.create", "source__exact": "command"}
    )
    assert filtered.status_code == 200
    assert list(filtered.context["cl"].result_list) == list(AuditEvent.objects.using("write").filter(tenant=tenant))
    by_object = superuser_client.get(changelist, {"q": str(other.pk)})
    assert [row.tenant_id for row in by_object.context["cl"].result_list] == [other.pk]


def test_a_retry_through_the_admin_is_audited_in_the_staff_users_name(tenant, superuser_client):
    scan = data_scan_store(tenant=tenant, rows=activities_validate(activities(3)).rows)
    DataScan.objects.using("write").filter(pk=scan.pk).update(status=ScanStatus.FAILED)
    response = superuser_client.post(reverse("admin:inventory_datascan_retry", args=[scan.pk]))
    assert response.status_code == 302
    retried = the_event(tenant, "data_scan.retry")
    assert (retried.source, retried.actor_username, retried.object_ids) == ("admin", "auditor", [str(scan.pk)])
