"""The personal-data types discovery can name, each with its category and the legal clause it follows.

Categories follow Decree 13/2023/ND-CP, Article 2: clause 3 lists basic personal data (points a-l),
clause 4 sensitive personal data (points a-k; the Vietnamese point letter after d is written `dd`
here, in ASCII). Two readings matter here:

- blood group is basic, not sensitive: clause 4(b) covers health and private life in medical
  records "excluding information on blood group", so it falls back to the basic catch-all 3(l);
- bank accounts and payment cards are sensitive under 4(h) when a credit institution or payment
  intermediary holds them. Discovery cannot tell who holds a database, so it flags them sensitive
  (the stricter reading); a compliance officer can lower the category of the activity.

Decree 356/2025/ND-CP replaced Decree 13 on 1 January 2026 (Articles 3 and 4 list the two
categories). As reported publicly (thanhnien.vn, 5 January 2026; plo.vn, 3 January 2026), it
adds spouses to family relations, and makes images of identity cards, behaviour-tracking data on
digital platforms, bank login credentials, card data and transaction history sensitive. None of the
types below changes category under those reports except `online_account` (activity history); it
stays basic here until the decree's text is checked clause by clause.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Category = Literal["basic", "sensitive"]


@dataclass(frozen=True)
class PersonalDataType:
    """One kind of personal data: its code, its category and the clause of Decree 13 Article 2 it follows."""

    code: str
    category: Category
    clause: str


_TYPES = (
    # Clause 3: basic personal data.
    PersonalDataType("full_name", "basic", "2.3(a)"),
    PersonalDataType("date_of_birth", "basic", "2.3(b)"),
    PersonalDataType("gender", "basic", "2.3(c)"),
    PersonalDataType("address", "basic", "2.3(d)"),
    PersonalDataType("nationality", "basic", "2.3(dd)"),
    PersonalDataType("image", "basic", "2.3(e)"),
    PersonalDataType("phone", "basic", "2.3(g)"),
    PersonalDataType("citizen_id", "basic", "2.3(g)"),
    PersonalDataType("passport", "basic", "2.3(g)"),
    PersonalDataType("driving_licence", "basic", "2.3(g)"),
    PersonalDataType("licence_plate", "basic", "2.3(g)"),
    PersonalDataType("tax_code", "basic", "2.3(g)"),
    PersonalDataType("social_insurance", "basic", "2.3(g)"),
    PersonalDataType("health_insurance", "basic", "2.3(g)"),
    PersonalDataType("marital_status", "basic", "2.3(h)"),
    PersonalDataType("family_relation", "basic", "2.3(i)"),
    PersonalDataType("email", "basic", "2.3(k)"),
    PersonalDataType("online_account", "basic", "2.3(k)"),
    PersonalDataType("ip_address", "basic", "2.3(k)"),
    PersonalDataType("blood_group", "basic", "2.3(l)"),
    # Clause 4: sensitive personal data.
    PersonalDataType("political_view", "sensitive", "2.4(a)"),
    PersonalDataType("religion", "sensitive", "2.4(a)"),
    PersonalDataType("health", "sensitive", "2.4(b)"),
    PersonalDataType("ethnicity", "sensitive", "2.4(c)"),
    PersonalDataType("genetic", "sensitive", "2.4(d)"),
    PersonalDataType("biometric", "sensitive", "2.4(dd)"),
    PersonalDataType("sex_life", "sensitive", "2.4(e)"),
    PersonalDataType("criminal_record", "sensitive", "2.4(g)"),
    PersonalDataType("bank_account", "sensitive", "2.4(h)"),
    PersonalDataType("payment_card", "sensitive", "2.4(h)"),
    PersonalDataType("location", "sensitive", "2.4(i)"),
)

PERSONAL_DATA_TYPES: dict[str, PersonalDataType] = {t.code: t for t in _TYPES}
"""Every type discovery reports, by code."""


def category_of(code: str) -> Category:
    """`basic` or `sensitive` for a type code (KeyError for an unknown code)."""
    return PERSONAL_DATA_TYPES[code].category
