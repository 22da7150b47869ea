"""The columns of a processing activity that one submitted record fills, named once.

Every list of them derives from this tuple: the batch COPY's column list, the data-scan insert
(its column list, `jsonb_to_recordset` definition and SELECT list), the activities page's
`values()`, the benchmarks' data sets. The order is the COPY order the batch path formats rows
in. `inventory/tests/test_activity_fields.py` checks it against the model and `ActivityRow`.

Plain Python without Django imports, so the benchmark drivers, which run outside Django, can use it.
"""

from __future__ import annotations

ACTIVITY_RECORD_FIELDS: tuple[str, ...] = (
    "activity_name",
    "pdpl_category",
    "data_fields",
    "purpose",
    "legal_basis",
    "data_subjects",
    "recipients",
    "cross_border_transfer",
    "retention_months",
)
