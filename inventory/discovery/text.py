"""Text folding shared by the name rules and the value detectors.

Vietnamese is matched without its diacritics: column names are mostly written without them
(`ho_ten`, `so_dien_thoai`), values with or without them ("Nguyen" with its tone marks, "NGUYEN"), so both sides are
folded to lower-case ASCII before any lookup and the vocabularies are kept in ASCII.
"""

from __future__ import annotations

import re
import unicodedata

# D WITH STROKE has no decomposition in Unicode, so NFD leaves it; it folds to a plain d.
_STROKED_D = str.maketrans({"\u0111": "d", "\u0110": "D"})
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """Lower-case ASCII without diacritics or stroked d: "Nguyen Van Duc" as written in Vietnamese -> "nguyen van duc"."""
    prepared = getattr(text, "folded", None)
    if prepared is not None:
        return prepared
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFD", text.translate(_STROKED_D))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def has_diacritics(text: str) -> bool:
    """Whether `text` carries Vietnamese (or other Latin) diacritics or a stroked d."""
    return fold(text) != text.lower()


def name_tokens(name: str) -> tuple[str, ...]:
    """A column or table name as folded words: "soDienThoai", "So_Dien_Thoai", "so dien thoai" with diacritics -> (so, dien, thoai)."""
    spaced = _CAMEL_BOUNDARY.sub("_", name.translate(_STROKED_D))
    return tuple(token for token in _NON_ALNUM.split(fold(spaced)) if token)


class Prepared(str):
    """A sampled value with its folded forms computed once, for the many detectors that read them."""

    folded: str
    phrase: str


def prepare(value: str) -> Prepared:
    """`value` with `.folded` (see `fold`) and `.phrase` (its folded words joined by single spaces)."""
    prepared = Prepared(value)
    prepared.folded = fold(value)
    prepared.phrase = " ".join(token for token in _NON_ALNUM.split(prepared.folded) if token)
    return prepared


def words(value: str) -> list[str]:
    """A value's folded words (letters and digits only)."""
    phrase = getattr(value, "phrase", None)
    if phrase is not None:
        return phrase.split()
    return [token for token in _NON_ALNUM.split(fold(value)) if token]
