"""ACTIVITY_RECORD_FIELDS names the record columns once; the model and the validated row agree with it."""

from __future__ import annotations

from inventory.activity_fields import ACTIVITY_RECORD_FIELDS
from inventory.models import ProcessingActivity
from inventory.validation import ActivityRow

# Columns a record never supplies: the id, the owner, the timestamp, the scan bookkeeping and what
# discovery of a data source keeps about the table an activity describes.
SYSTEM_COLUMNS = {
    "id",
    "tenant",
    "created_at",
    "data_scan",
    "scan_record_index",
    "data_source",
    "source_schema",
    "source_table",
    "source_findings",
    "source_changes",
    "source_missing_since",
}


def test_the_record_fields_are_the_models_columns_other_than_the_system_ones():
    concrete = [field.name for field in ProcessingActivity._meta.concrete_fields if field.name not in SYSTEM_COLUMNS]
    assert sorted(ACTIVITY_RECORD_FIELDS) == sorted(concrete)


def test_a_validated_row_has_exactly_the_record_fields():
    assert tuple(ActivityRow.__annotations__) == ACTIVITY_RECORD_FIELDS


def test_the_activity_list_renders_every_record_field():
    # The list's output model declares each field with its type (the schema needs them); this keeps
    # it from drifting from the one list of record fields.
    from analytics.views import Activity

    assert set(ACTIVITY_RECORD_FIELDS) <= set(Activity.model_fields)
