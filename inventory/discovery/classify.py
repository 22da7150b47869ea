"""One column's verdict from its name and its sampled values.

The order of the evidence:

1. A name that says a type, with values that fit it: the type, reason `both`.
2. Values that clearly show another type: the values win, reason `values` (a column called `email`
   that holds phone numbers holds phone numbers).
   A type only a name can show (political views, biometrics ...) yields only to a strict format:
   free text that reads like a person's name does not overrule `quan_diem_chinh_tri`.
3. A name whose type has a strict format (phone, e-mail, ID numbers, dates ...) with values that do
   not fit it: not personal (a column called `phone` holding product codes).
   A name whose type is free text (names, addresses, diagnoses ...) stands with a lower
   confidence, unless the values are codes (`ma_benh_an` holding `BA-000123` is a record number).
4. A name and nothing sampled (an empty table, a binary column): the name, reason `name`.
5. No name rule: the values alone, reason `values`, if a distinctive detector matches most of them.

An organisation's name, address, phone, e-mail, tax code or account (`dia_chi_kho`, `sdt_cong_ty`)
is not personal data, whatever the values look like.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from inventory.discovery.names import ORGANISATION_TYPES, match_name, organisation_qualified
from inventory.discovery.values import DETECTORS, birth_year, looks_like_code, match_counts

# A column is classified by values alone only from this many non-null samples: fewer could match by chance.
MIN_VALUES_ALONE = 5
# Free-text types: a name of one of them is not contradicted by values that merely fail its vocabulary.
FREE_TEXT_TYPES = frozenset({"full_name", "address", "health", "religion", "ethnicity", "nationality", "marital_status", "online_account"})
# Types whose values are never sampled: binary and boolean columns say nothing through their values.
_UNSAMPLED_TYPE_WORDS = ("bytea", "blob", "binary", "bool", "bit")


@dataclass(frozen=True)
class Verdict:
    """A column's classification: type (None = not personal), why, how sure, and the counts behind it."""

    personal_data_type: str | None
    reason: str | None
    confidence: float
    sampled: int
    matched: int


def samples_values(data_type: str) -> bool:
    """Whether a column of this engine type is worth sampling (binary and boolean ones are not)."""
    lowered = data_type.lower()
    return not any(word in lowered for word in _UNSAMPLED_TYPE_WORDS)


def _plausible_birth_years(values: Sequence[str]) -> bool:
    # Dates alone are birth dates only if they look like a population's: mostly adults, spread over
    # decades. Order dates, created_at and contract dates cluster in recent years.
    years = [y for y in (birth_year(v) for v in values) if y is not None]
    if len(years) < MIN_VALUES_ALONE:
        return False
    adult = sum(1 for y in years if y <= date.today().year - 16)
    return adult >= 0.8 * len(years) and max(years) - min(years) >= 15


def _best_by_values(values: Sequence[str], counts: dict[str, tuple[int, int]], excluded: frozenset[str]) -> tuple[str, int] | None:
    if len(values) < MIN_VALUES_ALONE:
        return None
    best: tuple[str, int] | None = None
    for code, detector in DETECTORS.items():
        alone = counts[code][0]
        if detector.alone is None or code in excluded or alone < detector.threshold * len(values):
            continue
        if code == "date_of_birth" and not _plausible_birth_years(values):
            continue
        if best is None or alone > best[1]:
            best = (code, alone)
    return best


def classify_column(name: str, data_type: str, values: Sequence[str]) -> Verdict:
    """Classify one column from its name, engine type and sampled values (non-null, as text)."""
    sampled = len(values)
    named = match_name(name)
    organisation = organisation_qualified(name)
    excluded = ORGANISATION_TYPES if organisation else frozenset()
    if named is not None and named.code in excluded:
        return Verdict(None, None, 0.0, sampled, 0)
    counts = match_counts(values) if values else {}
    by_values = _best_by_values(values, counts, excluded) if values else None

    if named is None:
        if by_values is None:
            return Verdict(None, None, 0.0, sampled, 0)
        code, matched = by_values
        return Verdict(code, "values", round(0.5 + 0.45 * matched / sampled, 3), sampled, matched)

    code = named.code
    if not values:
        return Verdict(code, "name", 0.6 if code in DETECTORS else 0.7, sampled, 0)
    detector = DETECTORS.get(code)
    if detector is not None:
        confirmed = counts[code][1]
        if confirmed >= min(detector.threshold, 0.7) * sampled:
            return Verdict(code, "both", round(0.75 + 0.24 * confirmed / sampled, 3), sampled, confirmed)
    if by_values is not None and by_values[0] != code and (detector is not None or by_values[0] not in FREE_TEXT_TYPES):
        other, matched = by_values
        return Verdict(other, "values", round(0.5 + 0.45 * matched / sampled, 3), sampled, matched)
    if detector is None:
        # A type only its name can show (political views, criminal records ...): free text that
        # happens to read like a name does not overrule it, a phone number or an e-mail does.
        return Verdict(code, "name", 0.7, sampled, 0)
    codes = sum(1 for v in values if looks_like_code(v))
    if code in FREE_TEXT_TYPES and codes < 0.8 * sampled:
        return Verdict(code, "name", 0.5, sampled, counts[code][1])
    return Verdict(None, None, 0.0, sampled, 0)
