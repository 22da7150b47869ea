"""The message catalogue: every sentence a person reads, in English and Vietnamese, keyed by code.

Error bodies, status and category labels, admin texts and `pool_report` lines all come from
`CATALOGUE`, so a wording is fixed in one place and a missing translation fails a test
(`verisyntra/tests/test_messages.py` renders every entry in both languages).

Templates use `str.format` fields with a small set of format specs, applied per language:

- `{n:num}`: an integer with thousands separators: "10,000" / "10.000".
- `{x:num.3}`: a number with 3 decimals: "0.063" / "0,063".
- `{n:plural:record:records}`: English singular or plural by `n` ("1 record", "2 records");
  Vietnamese nouns do not inflect, so Vietnamese templates write the noun once.
- any other spec is Python's own.

Vietnamese numbers use a dot for thousands and a comma for decimals (Vietnamese standard
TCVN 6909 and the CLDR `vi` locale: "10.000", "0,063").
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any, Literal

Language = Literal["en", "vi"]
LANGUAGES: tuple[Language, ...] = ("en", "vi")


@dataclass(frozen=True)
class Message:
    """One catalogue entry: the English and the Vietnamese template of the same sentence."""

    en: str
    vi: str

    def render(self, language: Language, **params: Any) -> str:
        template = self.en if language == "en" else self.vi
        return _FORMATTERS[language].format(template, **params)


@dataclass(frozen=True)
class Bilingual:
    """A rendered message in both languages."""

    en: str
    vi: str


class _LocaleFormatter(string.Formatter):
    def __init__(self, language: Language) -> None:
        super().__init__()
        self.language = language

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "num" or format_spec.startswith("num."):
            return format_number(value, self.language, decimals=int(format_spec[4:]) if "." in format_spec else None)
        if format_spec.startswith("plural:"):
            _, singular, plural = format_spec.split(":", 2)
            return singular if value == 1 else plural
        return super().format_field(value, format_spec)


_FORMATTERS: dict[Language, _LocaleFormatter] = {language: _LocaleFormatter(language) for language in LANGUAGES}


def format_number(value: float | int, language: Language, *, decimals: int | None = None) -> str:
    """`value` with the language's separators: 10000 -> "10,000" / "10.000"; 0.063 -> "0.063" / "0,063"."""
    if decimals is None and isinstance(value, float) and not value.is_integer():
        decimals = len(repr(value).split(".", 1)[1]) if "e" not in repr(value) else 6
    text = f"{value:,.{decimals}f}" if decimals is not None else f"{int(value):,}"
    if language == "vi":
        text = text.translate(str.maketrans({",": ".", ".": ","}))
    return text


def message(code: str) -> Message:
    """The catalogue entry for `code`; a KeyError names a code that was never written down."""
    return CATALOGUE[code]


def render(code: str, **params: Any) -> Bilingual:
    """`code`'s sentence in both languages, with `params` filled in per language."""
    entry = CATALOGUE[code]
    return Bilingual(en=entry.render("en", **params), vi=entry.render("vi", **params))


def render_in(language: Language, code: str, **params: Any) -> str:
    """`code`'s sentence in one language (reports and pages that show a single language)."""
    return CATALOGUE[code].render(language, **params)


# Keyed by code. Error codes are the `code` of the error body; labels are `<group>.<value>`.
# One catalogue, kept in one module per area (this package) so each area's sentences sit together;
# `_merge` refuses a code defined twice.
def _merge(*parts: dict[str, Message]) -> dict[str, Message]:
    merged: dict[str, Message] = {}
    for part in parts:
        for code, entry in part.items():
            if code in merged:
                raise ImportError(f"message code {code!r} is defined twice in the catalogue")
            merged[code] = entry
    return merged


from verisyntra.messages import admin, api, auth, budgets, discovery, health, inventory, pages, retries, sources  # noqa: E402  (they import Message from here)

CATALOGUE: dict[str, Message] = _merge(
    api.MESSAGES,
    inventory.MESSAGES,
    health.MESSAGES,
    admin.MESSAGES,
    pages.MESSAGES,
    budgets.MESSAGES,
    sources.MESSAGES,
    retries.MESSAGES,
    discovery.MESSAGES,
    auth.MESSAGES,
)
