"""Validation of processing-activity records, fast enough for 10,000 at a time, and independent of HTTP.

The batch API and the data-scan task both take lists of client-supplied activities. DRF
serializers cost about 0.4 s per 10,000 records (measured on this stack); one pydantic v2 `TypeAdapter`
call over the whole list costs a few tens of milliseconds. The happy path is that one call; only
when it fails are the items looked at one by one, so each bad item can be reported (index, field,
English and Vietnamese message) and, in "skip" mode, the good ones still written.

Every string that reaches PostgreSQL is checked here for what PostgreSQL would refuse (NUL
characters, unpaired surrogates, column lengths), so a bad record is a 400 with its index, never
a 500 from the database halfway through a COPY.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Annotated, Any, NotRequired

from pydantic import ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from inventory.models import LegalBasis, PdplCategory, legal_basis_label, pdpl_category_label
from verisyntra.messages import Bilingual, render

MAX_BATCH_ITEMS = 10_000
MIN_BATCH_ITEMS = 1

# Column limits (inventory.models.ProcessingActivity) and sane bounds for the unbounded ones.
NAME_MAX = 255
LIST_ITEM_MAX = 255
LIST_MAX = 1_000
PURPOSE_MAX = 10_000
RETENTION_MONTHS_MAX = 1_200  # 100 years: anything longer is a typo, not a retention policy.

# Error budgets. Every bad element used to become an error, all were collected and all returned:
# a 0.6 MB batch answered a 159 MB body. Now validation stops looking once MAX_FAILED_ITEMS items
# have failed (counted per item, whatever each item holds), at most MAX_LISTED_ERRORS errors are
# built and listed, and a field path quoting an unknown key is cut to FIELD_PATH_MAX characters,
# so a 400 stays near 100 KB whatever the input (docs/reliability.md, "Resource budgets").
MAX_FAILED_ITEMS = 100
MAX_LISTED_ERRORS = 100
FIELD_PATH_MAX = 200


def _normalised_key(value: str) -> str:
    return " ".join(value.split()).casefold()


# The category code, the English label ("Category 2: Basic Personal Data") or the Vietnamese
# label, in any letter case: clients written against the original API send the English label.
_CATEGORY_LOOKUP: dict[str, str] = {}
for _category in PdplCategory:
    # Exact spellings first, so the common case is one dict lookup without normalising.
    _CATEGORY_LOOKUP[_category.value] = _category.value
    _CATEGORY_LOOKUP[str(_category.label)] = _category.value
    _CATEGORY_LOOKUP[_normalised_key(_category.value)] = _category.value
    _CATEGORY_LOOKUP[_normalised_key(str(_category.label))] = _category.value
    _CATEGORY_LOOKUP[_normalised_key(pdpl_category_label(_category).vi)] = _category.value

_LEGAL_BASIS_LOOKUP: dict[str, str] = {}
for _basis in LegalBasis:
    _LEGAL_BASIS_LOOKUP[_basis.value] = _basis.value
    _LEGAL_BASIS_LOOKUP[_normalised_key(_basis.value)] = _basis.value
    _LEGAL_BASIS_LOOKUP[_normalised_key(str(_basis.label))] = _basis.value
    _LEGAL_BASIS_LOOKUP[_normalised_key(legal_basis_label(_basis).vi)] = _basis.value

CATEGORY_CHOICES_TEXT = ", ".join([c.value for c in PdplCategory] + [f'"{c.label}"' for c in PdplCategory])
LEGAL_BASIS_CHOICES_TEXT = ", ".join(b.value for b in LegalBasis)


# Only constraints pydantic-core checks natively (in Rust) are declared on the types: a Python
# validator per field costs more than the whole rest of the validation for 10,000 items, and even
# the native `strip_whitespace` and `pattern` double pydantic's time. What is left (labels to
# codes, blank text, NUL characters, which PostgreSQL text cannot hold) is one pass in
# `_normalise`. pydantic-core itself refuses unpaired surrogates (`string_unicode`).
Name = Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX)]
ListItem = Annotated[str, StringConstraints(min_length=1, max_length=LIST_ITEM_MAX)]
# `fail_fast`: a list reports its first bad element and stops, so a list of 1,000 bad elements
# costs one error, not 1,000 (an error body must not grow with the input: see MAX_FAILED_ITEMS).
OptionalList = Annotated[list[ListItem], Field(max_length=LIST_MAX, fail_fast=True)]

# In a row's texts joined by NUL, a text that starts with whitespace: the only kind that can be
# blank (pydantic already refused empty ones). A literal-prefixed pattern, so `re` scans for the
# NUL with a fast search; a full "blank text" pattern costs four times as much per row.
_LEADING_SPACE = re.compile(r"\x00\s")


class ActivityIn(TypedDict):
    """One processing activity as a client sends it (the batch API's item, a data scan's record)."""

    # Unknown keys are refused rather than dropped: a misspelt optional field ("cross_border")
    # would otherwise vanish silently from a legal record of processing.
    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]

    activity_name: Name
    pdpl_category: str
    data_fields: Annotated[list[ListItem], Field(min_length=1, max_length=LIST_MAX, fail_fast=True)]
    purpose: NotRequired[Annotated[str, StringConstraints(max_length=PURPOSE_MAX)] | None]
    legal_basis: NotRequired[str | None]
    data_subjects: NotRequired[OptionalList | None]
    recipients: NotRequired[OptionalList | None]
    cross_border_transfer: NotRequired[bool | None]
    retention_months: NotRequired[Annotated[int, Field(ge=0, le=RETENTION_MONTHS_MAX)] | None]


class ActivityRow(TypedDict):
    """A validated, normalised activity: every column present, codes instead of labels."""

    activity_name: str
    pdpl_category: str
    data_fields: list[str]
    purpose: str
    legal_basis: str
    data_subjects: list[str]
    recipients: list[str]
    cross_border_transfer: bool
    retention_months: int | None


# The whole-list pass only answers "all valid?": it stops at the first bad item instead of
# building an error for every one (the per-item pass then says what is wrong, within budget).
_ITEMS = TypeAdapter(Annotated[list[ActivityIn], Field(fail_fast=True)])
_ITEM = TypeAdapter(ActivityIn)


class _BatchBody(TypedDict):
    """The batch API's body, for the one-pass fast path (other keys are ignored, as on the slow path)."""

    activities: Annotated[list[ActivityIn], Field(min_length=MIN_BATCH_ITEMS, max_length=MAX_BATCH_ITEMS, fail_fast=True)]


_BATCH_BODY = TypeAdapter(_BatchBody)


@dataclass(frozen=True)
class ItemError:
    """One problem with one item: where it is and what is wrong, in both languages."""

    index: int
    field: str | None
    message: str
    message_vi: str
    code: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "field": self.field,
            "code": self.code,
            "message": self.message,
            "message_vi": self.message_vi,
        }


@lru_cache(maxsize=1024)
def _item_text(key: str, params: tuple[tuple[str, Any], ...]) -> Bilingual:
    # A batch of 10,000 bad items repeats a handful of sentences: render each once, not per item.
    return render(key, **dict(params))


def item_error(index: int, field_path: str | None, key: str, *, code: str | None = None, **params: Any) -> ItemError:
    """An item error worded by the catalogue entry `key` (`item.<code>[.<variant>]`); `code` defaults to `<code>`."""
    text = _item_text(key, tuple(sorted(params.items())) if params else ())
    return ItemError(index=index, field=field_path, code=code or key.split(".")[1], message=text.en, message_vi=text.vi)


@dataclass
class ValidationResult:
    """`rows[k]` is the normalised item that sat at position `indexes[k]` of the input.

    `errors` lists at most MAX_LISTED_ERRORS item errors; `errors_total` counts every error found
    and `failed_indexes` every failed item seen. `stopped_early` says validation stopped after
    `stop_after_failed` bad items, so later items may hold more.
    """

    rows: list[ActivityRow] = field(default_factory=list)
    indexes: list[int] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)
    errors_total: int = 0
    failed_indexes: list[int] = field(default_factory=list)
    stopped_early: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed_indexes

    @property
    def records_failed(self) -> int:
        return len(self.failed_indexes)

    @property
    def listing_room(self) -> int:
        """How many more errors `errors` can take; beyond it errors are only counted, never built."""
        return MAX_LISTED_ERRORS - len(self.errors)

    def add_item_errors(self, index: int, errors: Sequence[ItemError], *, count: int | None = None) -> None:
        """Record one failed item: its errors listed while there is room, `count` (default: all) counted."""
        self.errors.extend(errors[: max(self.listing_room, 0)])
        self.errors_total += len(errors) if count is None else count
        self.failed_indexes.append(index)

    def merge_errors(self, other: ValidationResult) -> None:
        """Add another chunk's errors and failures (its rows are the caller's to keep or drop)."""
        self.errors.extend(other.errors[: max(self.listing_room, 0)])
        self.errors_total += other.errors_total
        self.failed_indexes.extend(other.failed_indexes)
        self.stopped_early = self.stopped_early or other.stopped_early

    def errors_as_dicts(self) -> list[dict[str, Any]]:
        return [error.as_dict() for error in self.errors]

    def error_detail(self) -> dict[str, Any]:
        """The detail fields of the `invalid_activities` 400 (verisyntra.api.errors.ItemErrorsBody)."""
        detail: dict[str, Any] = {
            "records_failed": self.records_failed,
            "errors": self.errors_as_dicts(),
            "errors_total": self.errors_total,
        }
        if self.stopped_early:
            detail["validation_stopped"] = True
        return detail


def activities_validate(
    items: Sequence[Any], *, first_index: int = 0, stop_after_failed: int | None = MAX_FAILED_ITEMS, failed_before: int = 0
) -> ValidationResult:
    """Validate parsed JSON items. Never raises for bad items: they come back in `errors`.

    `first_index` shifts the reported indexes, for callers validating a chunk of a longer list.
    An item with any error is left out of `rows` entirely. Validation stops once
    `stop_after_failed` items have failed, counting `failed_before` ones of earlier chunks (None:
    look at every item, as a write that keeps the valid ones must).
    """
    try:
        validated = _ITEMS.validate_python(items)
    except ValidationError:
        validated = None
    result = ValidationResult()
    if validated is None:
        # Slow path, only for batches with bad items: one item at a time, to keep the good ones.
        for position, item in enumerate(items):
            if stop_after_failed is not None and failed_before + result.records_failed >= stop_after_failed:
                result.stopped_early = True
                break
            try:
                row = _ITEM.validate_python(item)
            except ValidationError as exc:
                _add_pydantic_errors(result, first_index + position, exc, item)
            else:
                _normalise(row, first_index + position, result)
    else:
        for position, row in enumerate(validated):
            _normalise(row, first_index + position, result)
    return result


def batch_body_validate_json(body: bytes) -> list[dict[str, Any]] | None:
    """A batch body's items parsed and type-checked in one native pass, or None if anything is wrong.

    Parsing into Python objects and then validating them builds every dict and list twice; pydantic
    straight from the bytes builds them once (about 40 % less time for 10,000 records). The items
    still need `activities_normalise` (labels, blank and NUL text). On None, the caller parses the
    body the slow way to say exactly what is wrong.
    """
    try:
        return _BATCH_BODY.validate_json(body)["activities"]
    except ValidationError:
        return None


def activities_normalise(
    items: Sequence[dict[str, Any]], *, first_index: int = 0, stop_after_failed: int | None = MAX_FAILED_ITEMS
) -> ValidationResult:
    """The checks after the type check, for items pydantic has already validated (`batch_body_validate_json`);
    stops as `activities_validate` does."""
    result = ValidationResult()
    for position, item in enumerate(items):
        if stop_after_failed is not None and result.records_failed >= stop_after_failed:
            result.stopped_early = True
            break
        _normalise(item, first_index + position, result)
    return result


def _normalise(item: dict[str, Any], index: int, result: ValidationResult) -> None:
    """Labels to codes, defaults filled in, blank and NUL text refused; appends the row, or its errors."""
    errors: list[ItemError] = []
    category = item["pdpl_category"]
    category_code = _CATEGORY_LOOKUP.get(category) or _CATEGORY_LOOKUP.get(_normalised_key(category))
    if category_code is None:
        errors.append(_choice_error(index, "pdpl_category"))
    legal_basis = item.get("legal_basis") or ""
    if legal_basis:
        legal_basis = _LEGAL_BASIS_LOOKUP.get(legal_basis) or _LEGAL_BASIS_LOOKUP.get(_normalised_key(legal_basis))
        if legal_basis is None:
            errors.append(_choice_error(index, "legal_basis"))
    row: ActivityRow = {
        "activity_name": item["activity_name"],
        "pdpl_category": category_code,  # type: ignore[typeddict-item]
        "data_fields": item["data_fields"],
        "purpose": item.get("purpose") or "",
        "legal_basis": legal_basis or "",
        "data_subjects": item.get("data_subjects") or [],
        "recipients": item.get("recipients") or [],
        "cross_border_transfer": bool(item.get("cross_border_transfer")),
        "retention_months": item.get("retention_months"),
    }
    # One join and two scans per row in the common case; field by field only when one trips.
    texts = (row["activity_name"], *row["data_fields"], *row["data_subjects"], *row["recipients"])
    joined = "\x00".join(texts)
    if joined.count("\x00") != len(texts) - 1 or "\x00" in row["purpose"] or joined[:1].isspace() or _LEADING_SPACE.search(joined):
        errors.extend(_text_errors(row, index))
    if errors:
        result.add_item_errors(index, errors)
    else:
        result.rows.append(row)
        result.indexes.append(index)


def _text_errors(row: ActivityRow, index: int) -> list[ItemError]:
    """The first bad text of each field (as pydantic's fail-fast lists report their first bad element)."""
    errors = []
    for name in ("activity_name", "data_fields", "data_subjects", "recipients", "purpose"):
        value = row[name]  # type: ignore[literal-required]
        values = value if isinstance(value, list) else [value]
        for position, text in enumerate(values):
            field_path = f"{name}[{position}]" if isinstance(value, list) else name
            if "\x00" in text:
                errors.append(item_error(index, field_path, "item.invalid_characters.nul"))
                break
            if name != "purpose" and not text.strip():
                errors.append(item_error(index, field_path, "item.blank"))
                break
    return errors


def _label_errors(item: Any, index: int) -> list[ItemError]:
    """Category and legal-basis errors of an item pydantic already refused, so one answer lists all."""
    if not isinstance(item, dict):
        return []
    errors = []
    category = item.get("pdpl_category")
    if isinstance(category, str) and _normalised_key(category) not in _CATEGORY_LOOKUP:
        errors.append(_choice_error(index, "pdpl_category"))
    basis = item.get("legal_basis")
    if isinstance(basis, str) and basis.strip() and _normalised_key(basis) not in _LEGAL_BASIS_LOOKUP:
        errors.append(_choice_error(index, "legal_basis"))
    return errors


def _choice_error(index: int, field_name: str) -> ItemError:
    choices = CATEGORY_CHOICES_TEXT if field_name == "pdpl_category" else LEGAL_BASIS_CHOICES_TEXT
    return item_error(index, field_name, f"item.invalid_choice.{field_name}", choices=choices)


def _field_path(loc: tuple[Any, ...]) -> str | None:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            # An unknown key may hold anything JSON can, even an unpaired surrogate: keep it printable.
            name = str(part).encode("utf-8", "backslashreplace").decode("utf-8")
            path += f".{name}" if path else name
            if len(path) > FIELD_PATH_MAX:
                # An unknown key may be megabytes long: the error names it, it does not echo it.
                return path[:FIELD_PATH_MAX] + "..."
    return path or None


def _add_pydantic_errors(result: ValidationResult, index: int, exc: ValidationError, item: Any) -> None:
    """One refused item's errors: built only while the listing has room, all of them counted."""
    count = exc.error_count()
    room = max(result.listing_room, 0)
    errors = []
    if room:
        # An item with thousands of unknown keys has as many errors: render only those listed.
        for error in exc.errors(include_url=False, include_input=False)[:room]:
            key, code, params = describe_error(error)
            errors.append(item_error(index, _field_path(tuple(error["loc"])), key, code=code, **params))
    labels = _label_errors(item, index)
    result.add_item_errors(index, errors + labels, count=count + len(labels))


# pydantic error types with one sentence each, whatever the field and limits.
_ERROR_KEYS = {
    "missing": "item.required",
    "extra_forbidden": "item.unknown_field",
    "model_type": "item.not_an_object",
    "model_attributes_type": "item.not_an_object",
    "dict_type": "item.not_an_object",
    "string_unicode": "item.invalid_characters.surrogate",
    "string_type": "item.invalid_type.string",
    "string_too_short": "item.blank",
    "list_type": "item.invalid_type.list",
    "bool_type": "item.invalid_type.bool",
    "bool_parsing": "item.invalid_type.bool",
    "int_type": "item.invalid_type.int",
    "int_parsing": "item.invalid_type.int",
    "int_from_float": "item.invalid_type.int",
}


def describe_error(error: dict[str, Any]) -> tuple[str, str | None, dict[str, Any]]:
    """(catalogue key, code or None for the key's own, parameters) for one pydantic error of an activity item."""
    kind = error["type"]
    if kind in _ERROR_KEYS:
        return _ERROR_KEYS[kind], None, {}
    limit = (error.get("ctx") or {}).get("max_length")
    if kind == "string_too_long":
        return "item.too_long", None, {"limit": limit}
    if kind == "too_short":
        field_name = next((part for part in reversed(error["loc"]) if isinstance(part, str)), None)
        return ("item.empty_list.data_fields" if field_name == "data_fields" else "item.empty_list"), None, {}
    if kind == "too_long":
        return "item.too_many_items", None, {"limit": limit}
    if kind in {"greater_than_equal", "less_than_equal"}:
        return "item.out_of_range", None, {"low": 0, "high": RETENTION_MONTHS_MAX}
    # Anything not listed above keeps pydantic's type as its code and pydantic's words as detail.
    return "item.invalid_value", kind, {"detail": error.get("msg", kind)}


def activity_item_json_schema() -> dict[str, Any]:
    """The OpenAPI 3.0 schema of one activity item, derived from `ActivityIn` (one source of truth).

    pydantic writes JSON Schema 2020-12; OpenAPI 3.0 has no `null` type, so `anyOf [X, null]`
    becomes `X` with `nullable: true`. The choice fields get their accepted spellings as enums.
    """
    schema = _ITEM.json_schema()
    properties = {}
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        prop.pop("title", None)
        variants = prop.pop("anyOf", None)
        if variants is not None:
            non_null = [v for v in variants if v.get("type") != "null"]
            prop.update(non_null[0] if len(non_null) == 1 else {"anyOf": non_null})
            prop["nullable"] = True
        properties[name] = prop
    # Checked in `_normalise`, documented here: no NUL anywhere, and names and list items not blank.
    for name in ("activity_name", "purpose"):
        properties[name]["pattern"] = r"^[^\x00]*$" if name == "purpose" else r"^[^\x00]*[^\x00\s][^\x00]*$"
    for name in ("data_fields", "data_subjects", "recipients"):
        properties[name]["items"]["pattern"] = r"^[^\x00]*[^\x00\s][^\x00]*$"
    properties["pdpl_category"] = {
        "type": "string",
        "enum": [c.value for c in PdplCategory] + [str(c.label) for c in PdplCategory],
        "description": "The code, or its English label (any letter case); the Vietnamese label works too.",
    }
    properties["legal_basis"] = {
        "type": "string",
        "enum": ["", *LegalBasis.values],
        "nullable": True,
        "description": "The code (or its English label). Empty or null: not stated.",
    }
    return {
        "type": "object",
        "required": schema["required"],
        "properties": properties,
        "additionalProperties": False,
    }
