"""Name rules: which personal-data type a column's name suggests, in Vietnamese or English.

Names are folded to ASCII words first (`text.name_tokens`), so `ho_ten`, `hoTen`, `HoTen`,
`ho ten` with diacritics and `HO_TEN` are the same words. A rule is a phrase of such words; it matches when its
words appear in a row, or, for phrases of five letters or more, inside a name written without
separators (`sodienthoai`, `ngaysinh`). The longest matching phrase wins, so `dia_chi_email` is an
e-mail and `ip_address` an IP address, not an address.

A name that qualifies an organisation (`dia_chi_cong_ty`, `company_phone`, `ma_so_thue_ncc`) is
the organisation's, not a person's: `organisation_qualified` tells the classifier so.
"""

from __future__ import annotations

from dataclasses import dataclass

from inventory.discovery.text import name_tokens

_RULES: dict[str, tuple[str, ...]] = {
    "full_name": (
        "ho ten",
        "ho va ten",
        "hovaten",
        "full name",
        "fullname",
        "ten day du",
        "ten khach hang",
        "ten kh",
        "ten khach",
        "ten nguoi",
        "ten benh nhan",
        "ten nhan vien",
        "ten nv",
        "ten hoc sinh",
        "ten sinh vien",
        "ten chu the",
        "ten khai sinh",
        "ten goi khac",
        "bi danh",
        "ho ten cha",
        "ho ten me",
        "customer name",
        "patient name",
        "employee name",
        "person name",
        "contact name",
        "first name",
        "firstname",
        "last name",
        "lastname",
        "given name",
        "middle name",
        "surname",
        "family name",
        "ten lot",
        "ten dem",
    ),
    "date_of_birth": (
        "ngay sinh",
        "nam sinh",
        "ngay thang nam sinh",
        "dob",
        "birth date",
        "birthdate",
        "date of birth",
        "birthday",
        "born",
    ),
    "gender": ("gioi tinh", "gioitinh", "gender", "sex", "phai"),
    "address": (
        "dia chi",
        "diachi",
        "address",
        "addr",
        "noi o",
        "cho o",
        "thuong tru",
        "tam tru",
        "que quan",
        "noi sinh",
        "nguyen quan",
        "home address",
        "street address",
        "dia chi lien he",
    ),
    "nationality": ("quoc tich", "quoctich", "nationality", "citizenship"),
    "image": (
        "anh dai dien",
        "anh the",
        "anh chan dung",
        "chan dung",
        "avatar",
        "profile photo",
        "profile picture",
        "selfie",
        "anh ca nhan",
    ),
    "phone": (
        "so dien thoai",
        "sodienthoai",
        "dien thoai",
        "dienthoai",
        "sdt",
        "dtdd",
        "di dong",
        "phone",
        "mobile",
        "tel",
        "telephone",
        "cell",
        "hotline",
        "zalo",
    ),
    "citizen_id": (
        "cccd",
        "cmnd",
        "so cccd",
        "so cmnd",
        "can cuoc",
        "cancuoc",
        "chung minh",
        "chung minh nhan dan",
        "so dinh danh",
        "dinh danh ca nhan",
        "id card",
        "national id",
        "citizen id",
        "identity number",
        "id number",
        "ssn",
    ),
    "passport": ("ho chieu", "hochieu", "passport", "so ho chieu"),
    "driving_licence": ("gplx", "bang lai", "giay phep lai xe", "driving licence", "driving license", "driver license", "drivers license"),
    "licence_plate": ("bien so", "bien so xe", "bienso", "license plate", "licence plate", "plate number", "number plate"),
    "tax_code": ("mst", "ma so thue", "masothue", "ma thue", "tax code", "tax id", "taxcode"),
    "social_insurance": ("bhxh", "so bhxh", "ma bhxh", "bao hiem xa hoi", "social insurance", "social security"),
    "health_insurance": ("bhyt", "the bhyt", "so the bhyt", "ma the bhyt", "bao hiem y te", "health insurance"),
    "marital_status": ("hon nhan", "tinh trang hon nhan", "honnhan", "marital status", "marital"),
    "family_relation": (
        "quan he",
        "moi quan he",
        "quan he gia dinh",
        "nguoi than",
        "vo chong",
        "ten vo",
        "ten chong",
        "ten con",
        "relationship",
        "next of kin",
        "spouse",
        "guardian",
        "nguoi giam ho",
    ),
    "email": ("email", "e mail", "thu dien tu", "hop thu", "mail", "dia chi email", "email address"),
    "online_account": (
        "ten dang nhap",
        "tai khoan dang nhap",
        "username",
        "user name",
        "login",
        "nick",
        "nickname",
        "facebook",
        "social account",
    ),
    "ip_address": ("ip", "dia chi ip", "ip address", "ip addr", "client ip", "remote addr"),
    "blood_group": ("nhom mau", "nhommau", "blood group", "blood type", "bloodtype"),
    "political_view": ("chinh tri", "quan diem chinh tri", "dang phai", "political", "political view", "party affiliation"),
    "religion": ("ton giao", "tongiao", "tin nguong", "religion", "faith"),
    "health": (
        "benh an",
        "benhan",
        "chan doan",
        "chandoan",
        "tien su benh",
        "tien su",
        "benh ly",
        "benh",
        "trieu chung",
        "xet nghiem",
        "ket qua xet nghiem",
        "dieu tri",
        "don thuoc",
        "di ung",
        "suc khoe",
        "tinh trang suc khoe",
        "diagnosis",
        "diagnoses",
        "medical",
        "medical history",
        "symptom",
        "symptoms",
        "disease",
        "icd",
        "treatment",
        "prescription",
        "allergy",
        "allergies",
        "health status",
        "health condition",
    ),
    "ethnicity": ("dan toc", "dantoc", "sac toc", "chung toc", "ethnicity", "ethnic", "race"),
    "genetic": ("gen", "di truyen", "ma gen", "dna", "genome", "genetic", "genotype"),
    "biometric": (
        "van tay",
        "vantay",
        "khuon mat",
        "mong mat",
        "sinh trac",
        "sinh trac hoc",
        "giong noi",
        "fingerprint",
        "face template",
        "face embedding",
        "iris",
        "biometric",
        "biometrics",
        "voiceprint",
    ),
    "sex_life": ("xu huong tinh duc", "tinh duc", "sexual orientation", "sex life", "sexuality"),
    "criminal_record": (
        "tien an",
        "tien su",
        "an tich",
        "ly lich tu phap",
        "tien an tien su",
        "criminal record",
        "conviction",
        "convictions",
    ),
    "bank_account": (
        "so tai khoan",
        "sotaikhoan",
        "stk",
        "tai khoan ngan hang",
        "tk ngan hang",
        "so tk",
        "bank account",
        "account number",
        "account no",
        "iban",
        "bank acc",
    ),
    "payment_card": ("so the", "the tin dung", "the ngan hang", "card number", "credit card", "debit card", "pan", "card no"),
    "location": (
        "vi tri",
        "toa do",
        "vi do",
        "kinh do",
        "gps",
        "latitude",
        "longitude",
        "lat",
        "lng",
        "lon",
        "geo",
        "geolocation",
        "location",
    ),
}

# Words naming an organisation, a place of business or a product: `dia_chi_kho` is a warehouse's
# address and `ten_san_pham` a product's name, not personal data.
_ORGANISATION_PHRASES = (
    "cong ty",
    "congty",
    "company",
    "doanh nghiep",
    "kho",
    "warehouse",
    "chi nhanh",
    "branch",
    "cua hang",
    "store",
    "shop",
    "nha cung cap",
    "ncc",
    "supplier",
    "vendor",
    "san pham",
    "product",
    "don vi",
    "merchant",
    "office",
    "van phong",
    "tru so",
    "hq",
)
# Types an organisation has as well as a person.
ORGANISATION_TYPES = frozenset({"full_name", "address", "phone", "email", "tax_code", "bank_account"})

# "tien su" (history) alone is ambiguous between medical and criminal history; the medical reading
# is far commoner in the tables we scan, so the shorter criminal phrases need their other word.
_RULES["criminal_record"] = tuple(p for p in _RULES["criminal_record"] if p != "tien su")


@dataclass(frozen=True)
class NameMatch:
    """A rule that matched a name: the type it suggests and the phrase that matched (longer = more specific)."""

    code: str
    phrase: str


def _phrase_in(phrase: str, tokens: tuple[str, ...], joined: str) -> bool:
    parts = tuple(phrase.split())
    width = len(parts)
    if any(tokens[i : i + width] == parts for i in range(len(tokens) - width + 1)):
        return True
    compact = phrase.replace(" ", "")
    return len(compact) >= 5 and compact in joined and len(tokens) <= 2


_COMPILED = sorted(((phrase, code) for code, phrases in _RULES.items() for phrase in phrases), key=lambda item: -len(item[0]))


def match_name(name: str) -> NameMatch | None:
    """The type `name` suggests (longest phrase wins), or None."""
    tokens = name_tokens(name)
    joined = "".join(tokens)
    for phrase, code in _COMPILED:
        if _phrase_in(phrase, tokens, joined):
            return NameMatch(code, phrase)
    return None


def organisation_qualified(name: str) -> bool:
    """Whether `name` says the column belongs to an organisation, a place of business or a product."""
    tokens = name_tokens(name)
    joined = "".join(tokens)
    return any(_phrase_in(phrase, tokens, joined) for phrase in _ORGANISATION_PHRASES)
