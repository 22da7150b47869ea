"""Value detectors: does one sampled value look like a given personal-data type?

Each detector sees one value as text (the introspection casts every sampled value to text) and
answers yes or no; the classifier counts the yeses over a column's sample. Detectors come in two
strengths:

- `alone`: distinctive enough to classify a column whose name says nothing (`c1`): a Vietnamese
  mobile number, a 12-digit citizen ID with a real province code, a tax code whose check digit
  holds, an e-mail address, a Luhn-valid card number, a name whose first word is a Vietnamese family
  name and whose words are Vietnamese syllables ...;
- `confirm`: only compatible with a type its column name already suggests (a bank account is
  "6 to 19 digits", which order numbers and barcodes are too; a country name is as often a product's
  origin as a person's nationality).

Vocabularies are folded ASCII (see `text.fold`); values are folded before lookup, so "Nguyen" with its tone marks,
"Nguyen" and "NGUYEN" are the same word.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from inventory.discovery.text import fold, prepare, words

# --- vocabularies (folded ASCII) -----------------------------------------------------------------

# The commonest Vietnamese family names; together they cover the great majority of the population.
FAMILY_NAMES = frozenset(
    [
        "nguyen",
        "tran",
        "le",
        "pham",
        "hoang",
        "huynh",
        "phan",
        "vu",
        "vo",
        "dang",
        "bui",
        "do",
        "ho",
        "ngo",
        "duong",
        "ly",
        "dinh",
        "truong",
        "mai",
        "trinh",
        "lam",
        "luong",
        "ha",
        "cao",
        "ta",
        "tong",
        "quach",
        "luu",
        "la",
        "kieu",
        "thai",
        "chau",
        "dao",
        "doan",
        "vuong",
        "tang",
        "to",
        "lai",
        "luc",
        "mac",
        "khuc",
        "hua",
        "kim",
        "chu",
        "trieu",
        "nghiem",
        "giang",
        "au",
        "thach",
        "phung",
        "khong",
        "lo",
        "quan",
        "tieu",
        "ninh",
        "nong",
        "diep",
        "mach",
        "hang",
        "tiet",
        "ung",
        "thieu",
        "tham",
        "lieu",
        "khuat",
        "dam",
        "thi",
    ]
)
# A Vietnamese syllable written without diacritics: optional initial consonant(s), a vowel nucleus,
# an optional final consonant. English words rarely fit ("street", "black", "confirmed" do not).
_SYLLABLE = re.compile(r"^(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnpqrstvx])?[aeiouy]{1,3}(ng|nh|ch|[cmnpt])?$")

# Administrative and street markers of Vietnamese addresses, grouped by level, plus province and
# city names (since 2025 many addresses name only a ward and a province).
_ADDRESS_MARKERS: dict[str, frozenset[str]] = {
    "street": frozenset(
        ["so", "duong", "pho", "ngo", "ngach", "hem", "kiet", "thon", "ap", "xom", "khu pho", "to dan pho", "khom"]
        + ["chung cu", "toa nha", "can ho", "street", "road"]
    ),
    "ward": frozenset(["phuong", "xa", "p", "ward", "commune", "thi tran", "tt"]),
    "district": frozenset(["quan", "huyen", "q", "thi xa", "tx", "district"]),
    "province": frozenset(["tinh", "tp", "thanh pho", "city", "province"]),
}
PROVINCES = frozenset(
    [
        "ha noi",
        "ho chi minh",
        "hcm",
        "tphcm",
        "sai gon",
        "da nang",
        "hai phong",
        "can tho",
        "hue",
        "thua thien hue",
        "quang ninh",
        "bac ninh",
        "hai duong",
        "hung yen",
        "nam dinh",
        "thai binh",
        "ninh binh",
        "ha nam",
        "vinh phuc",
        "phu tho",
        "thai nguyen",
        "bac giang",
        "lang son",
        "cao bang",
        "ha giang",
        "tuyen quang",
        "yen bai",
        "lao cai",
        "lai chau",
        "dien bien",
        "son la",
        "hoa binh",
        "bac kan",
        "thanh hoa",
        "nghe an",
        "ha tinh",
        "quang binh",
        "quang tri",
        "quang nam",
        "quang ngai",
        "binh dinh",
        "phu yen",
        "khanh hoa",
        "ninh thuan",
        "binh thuan",
        "kon tum",
        "gia lai",
        "dak lak",
        "dak nong",
        "lam dong",
        "binh phuoc",
        "tay ninh",
        "binh duong",
        "dong nai",
        "ba ria vung tau",
        "vung tau",
        "long an",
        "tien giang",
        "ben tre",
        "tra vinh",
        "vinh long",
        "dong thap",
        "an giang",
        "kien giang",
        "hau giang",
        "soc trang",
        "bac lieu",
        "ca mau",
        "nha trang",
        "da lat",
        "bien hoa",
        "thu duc",
    ]
)
_MEDICAL_TERMS = frozenset(
    [
        "viem",
        "ho khan",
        "ho ra mau",
        "dau bung",
        "dau dau",
        "dau nguc",
        "dau lung",
        "bong do",
        "soi mat",
        "ung thu",
        "dai thao duong",
        "tieu duong",
        "huyet ap",
        "tang huyet ap",
        "sot",
        "gay xuong",
        "suy tim",
        "suy than",
        "nhiem trung",
        "hen",
        "hen suyen",
        "lao phoi",
        "tram cam",
        "roi loan",
        "covid",
        "di ung",
        "dau da day",
        "da day",
        "benh",
        "hoi chung",
        "xo gan",
        "dot quy",
        "nhoi mau",
        "soi than",
        "thoai hoa",
        "thieu mau",
        "cum",
        "sot xuat huyet",
        "tai bien",
        "tim mach",
        "u xo",
        "khoi u",
        "chan thuong",
        "ngo doc",
        "mat ngu",
        "lo au",
        "dong kinh",
        "parkinson",
        "alzheimer",
        "hiv",
        "viem gan",
        "zona",
        "thuy dau",
        "quai bi",
        "dau mat",
        "diabetes",
        "hypertension",
        "pneumonia",
        "asthma",
        "cancer",
        "fracture",
        "depression",
        "infection",
        "allergy",
        "disease",
        "syndrome",
    ]
)
_RELIGIONS = frozenset(
    [
        "phat giao",
        "dao phat",
        "cong giao",
        "thien chua giao",
        "tin lanh",
        "cao dai",
        "hoa hao",
        "hoi giao",
        "islam",
        "buddhism",
        "buddhist",
        "catholic",
        "christian",
        "christianity",
        "protestant",
        "muslim",
        "hindu",
        "hinduism",
        "khong",
        "khong ton giao",
        "khong theo ton giao",
        "none",
        "ba ha i",
        "baha i",
        "tu an hieu nghia",
        "minh su dao",
        "buu son ky huong",
    ]
)
_ETHNIC_GROUPS = frozenset(
    [
        "kinh",
        "tay",
        "thai",
        "muong",
        "khmer",
        "hoa",
        "nung",
        "hmong",
        "h mong",
        "mong",
        "dao",
        "gia rai",
        "jrai",
        "e de",
        "ede",
        "ba na",
        "bahnar",
        "xo dang",
        "san chay",
        "co ho",
        "cham",
        "san diu",
        "hre",
        "ra glai",
        "raglai",
        "mnong",
        "m nong",
        "tho",
        "xtieng",
        "stieng",
        "kho mu",
        "khmu",
        "bru van kieu",
        "co tu",
        "giay",
        "ta oi",
        "ma",
        "gie trieng",
        "co",
        "cho ro",
        "xinh mun",
        "ha nhi",
        "chu ru",
        "lao",
        "la chi",
        "khang",
        "phu la",
        "la hu",
        "la ha",
        "pa then",
        "lu",
        "ngai",
        "chut",
        "lo lo",
        "mang",
        "co lao",
        "bo y",
        "cong",
        "si la",
        "pu peo",
        "ro mam",
        "brau",
        "o du",
    ]
)
_MARITAL = frozenset(
    [
        "doc than",
        "chua ket hon",
        "da ket hon",
        "ket hon",
        "co gia dinh",
        "ly hon",
        "da ly hon",
        "ly than",
        "goa",
        "goa vo",
        "goa chong",
        "single",
        "married",
        "divorced",
        "widowed",
        "separated",
        "unmarried",
    ]
)
_GENDERS = frozenset(["nam", "nu", "male", "female", "m", "f", "khac", "other", "trai", "gai", "gioi tinh nam", "gioi tinh nu"])
_COUNTRIES = frozenset(
    [
        "viet nam",
        "vietnam",
        "vietnamese",
        "vn",
        "hoa ky",
        "my",
        "usa",
        "american",
        "nhat ban",
        "japan",
        "japanese",
        "han quoc",
        "korea",
        "korean",
        "trung quoc",
        "china",
        "chinese",
        "phap",
        "france",
        "french",
        "duc",
        "germany",
        "german",
        "anh",
        "uk",
        "british",
        "uc",
        "australia",
        "australian",
        "thai lan",
        "thailand",
        "lao",
        "laos",
        "campuchia",
        "cambodia",
        "singapore",
        "dai loan",
        "taiwan",
        "an do",
        "india",
        "nga",
        "russia",
        "canada",
        "philippines",
        "malaysia",
        "indonesia",
    ]
)

# Province codes that open the 12-digit personal identification number: the 63 provinces before the
# 2025 merger (numbers already issued keep them).
CITIZEN_ID_PROVINCES = frozenset(
    [
        "001",
        "002",
        "004",
        "006",
        "008",
        "010",
        "011",
        "012",
        "014",
        "015",
        "017",
        "019",
        "020",
        "022",
        "024",
        "025",
        "026",
        "027",
        "030",
        "031",
        "033",
        "034",
        "035",
        "036",
        "037",
        "038",
        "040",
        "042",
        "044",
        "045",
        "046",
        "048",
        "049",
        "051",
        "052",
        "054",
        "056",
        "058",
        "060",
        "062",
        "064",
        "066",
        "067",
        "068",
        "070",
        "072",
        "074",
        "075",
        "077",
        "079",
        "080",
        "082",
        "083",
        "084",
        "086",
        "087",
        "089",
        "091",
        "092",
        "093",
        "094",
        "095",
        "096",
    ]
)
# Mobile prefixes after the 2018 renumbering (03x Viettel, 05x Vietnamobile/Gmobile, 07x MobiFone,
# 08x VinaPhone/iTel, 09x all), and fixed lines (02 + area code).
_MOBILE = r"(?:3[2-9]|5[25689]|7[06-9]|8[1-9]|9[0-46-9])\d{7}"
_PHONE = re.compile(rf"^(?:\+?84|0)(?:{_MOBILE}|2\d{{9}})$")
_PHONE_NO_ZERO = re.compile(rf"^{_MOBILE}$")  # a phone stored in a numeric column loses its leading 0
_PHONE_NOISE = re.compile(r"[\s.\-()]")
_DIGIT_NOISE = re.compile(r"[\s\-.]")
_EMAIL = re.compile(r"^[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[a-z]{2,}$", re.IGNORECASE)
_PASSPORT = re.compile(r"^[A-Z]\d{7}$")
_HEALTH_INSURANCE = re.compile(r"^[A-Z]{2}\d{13}$")
_LICENCE_PLATE = re.compile(r"^\d{2}[A-Z]{1,2}\d?[\s\-]?(?:\d{3}\.?\d{2}|\d{4})$")
_ICD10 = re.compile(r"^[A-TV-Z]\d{2}(?:\.\d{1,2})?\b")
_IPV4 = re.compile(r"^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$")
_IPV6 = re.compile(r"^[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}$", re.IGNORECASE)
_LAT_LNG = re.compile(r"^\(?\s*(-?\d{1,2}\.\d{3,})\s*[,; ]\s*(-?\d{1,3}\.\d{3,})\s*\)?$")
_COORDINATE = re.compile(r"^-?\d{1,3}\.\d{4,}$")
_BLOOD = re.compile(r"^(?:nhommau|bloodgroup|bloodtype)?(?:a|b|ab|o)(?:rh)?[+\-]?$")
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(?:[+\-]\d{2}(?::?\d{2})?)?)?$")
_DATE_DMY = re.compile(r"^(\d{1,2})[/\-.](\d{1,2})[/\-.](\d{4})$")
_IMAGE = re.compile(r"\.(?:jpe?g|png|webp|gif|heic|bmp)(?:\?.*)?$|^data:image/", re.IGNORECASE)
_ACCOUNT_NAME = re.compile(r"^[a-z0-9._\-]{3,40}$", re.IGNORECASE)
_CODE_LIKE = re.compile(r"^[A-Z0-9][A-Z0-9\-_/.#:]*$")
_TAX_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)

# A person's birth year: people alive and old enough to be in a company's records.
OLDEST_BIRTH_YEAR = 1900
YOUNGEST_AGE = 0


def _phrase(value: str) -> str:
    prepared = getattr(value, "phrase", None)
    if prepared is not None:
        return prepared
    return " ".join(words(value))


def is_full_name(value: str) -> bool:
    tokens = words(value)
    return 2 <= len(tokens) <= 6 and tokens[0] in FAMILY_NAMES and all(t.isalpha() and _SYLLABLE.match(t) for t in tokens)


def is_phone(value: str) -> bool:
    return bool(_PHONE.match(_PHONE_NOISE.sub("", value)))


def is_phone_compatible(value: str) -> bool:
    digits = _PHONE_NOISE.sub("", value)
    return bool(_PHONE.match(digits) or _PHONE_NO_ZERO.match(digits))


def is_email(value: str) -> bool:
    return bool(_EMAIL.match(value.strip()))


def is_citizen_id(value: str) -> bool:
    """A 12-digit personal identification number: province code, century-and-sex digit 0-3, birth year, serial."""
    digits = _DIGIT_NOISE.sub("", value)
    return len(digits) == 12 and digits.isdigit() and digits[:3] in CITIZEN_ID_PROVINCES and digits[3] in "0123"


def is_citizen_id_compatible(value: str) -> bool:
    """Also the 9-digit identity card number (CMND) that predates it."""
    digits = _DIGIT_NOISE.sub("", value)
    return is_citizen_id(digits) or (len(digits) == 9 and digits.isdigit())


def is_passport(value: str) -> bool:
    return bool(_PASSPORT.match(value.strip()))


def _tax_check_digit_holds(ten: str) -> bool:
    # The modulo-11 check digit of the 10-digit tax code: N10 = 10 - (sum of N1..N9 weighted 31, 29, 23, 19, 17, 13, 7, 5, 3) mod 11.
    total = sum(int(d) * w for d, w in zip(ten[:9], _TAX_WEIGHTS, strict=True))
    return (10 - total % 11) % 10 == int(ten[9]) and 10 - total % 11 != 10


def is_tax_code(value: str) -> bool:
    """A 10-digit tax code with a valid check digit, or a branch's 13 (`0101234567-001`)."""
    text = value.strip().replace(" ", "")
    head, _, branch = text.partition("-")
    if branch and not (len(branch) == 3 and branch.isdigit()):
        return False
    if not branch and len(head) == 13:
        head, branch = head[:10], head[10:]
    return len(head) == 10 and head.isdigit() and _tax_check_digit_holds(head)


def is_tax_code_compatible(value: str) -> bool:
    """Since July 2025 an individual's tax code is the 12-digit personal identification number."""
    return is_tax_code(value) or is_citizen_id(value)


def birth_year(value: str) -> int | None:
    """The year of a date with no time of day (a timestamp with a time is an event, not a birth)."""
    text = value.strip()
    match = _DATE.match(text)
    if match:
        year, month, day = int(match[1]), int(match[2]), int(match[3])
        if match[4] is not None and (int(match[4]), int(match[5]), int(match[6] or 0)) != (0, 0, 0):
            return None
    else:
        match = _DATE_DMY.match(text)
        if not match:
            return None
        day, month, year = int(match[1]), int(match[2]), int(match[3])
    try:
        date(year, month, day)
    except ValueError:
        return None
    return year


def is_birth_date(value: str) -> bool:
    year = birth_year(value)
    return year is not None and OLDEST_BIRTH_YEAR <= year <= date.today().year - YOUNGEST_AGE


def is_address(value: str) -> bool:
    """Two levels of a Vietnamese address: "12 Le Loi, Phuong Ben Nghe, Quan 1, TP. Ho Chi Minh" (with or without diacritics)."""
    folded = fold(value)
    if "," not in folded and len(folded.split()) < 4:
        return False
    phrase = " " + _phrase(value) + " "
    tokens = set(phrase.split())
    levels = {level for level, markers in _ADDRESS_MARKERS.items() if _mentions(phrase, tokens, markers)}
    if _mentions(phrase, tokens, PROVINCES):
        levels.add("province")
    if re.match(r"^\s*(?:so\s+)?\d+[a-z]?(?:/\d+)*\b", folded):
        levels.add("street")
    return len(levels) >= 2


def _mentions(phrase: str, tokens: set[str], terms: frozenset[str]) -> bool:
    """Whether a padded folded `phrase` (with its word set `tokens`) contains one of `terms` as whole words."""
    if not tokens.isdisjoint(terms):
        return True
    return any(term in phrase for term in _padded_phrases(terms))


@functools.cache
def _padded_phrases(terms: frozenset[str]) -> tuple[str, ...]:
    # The vocabulary's several-word terms, padded with spaces so that they match whole words only.
    return tuple(f" {term} " for term in terms if " " in term)


def is_health(value: str) -> bool:
    if _ICD10.match(value.strip()):
        return True
    phrase = " " + _phrase(value) + " "
    return _mentions(phrase, set(phrase.split()), _MEDICAL_TERMS)


def _in_vocabulary(vocabulary: frozenset[str], *prefixes: str) -> Callable[[str], bool]:
    def detector(value: str) -> bool:
        phrase = _phrase(value)
        for prefix in prefixes:
            if phrase.startswith(prefix + " "):
                phrase = phrase[len(prefix) + 1 :]
        return phrase in vocabulary

    return detector


is_religion = _in_vocabulary(_RELIGIONS, "dao", "ton giao")
is_ethnicity = _in_vocabulary(_ETHNIC_GROUPS, "dan toc", "nguoi")
is_marital_status = _in_vocabulary(_MARITAL)
is_gender = _in_vocabulary(_GENDERS)
is_nationality = _in_vocabulary(_COUNTRIES, "quoc tich")


def is_blood_group(value: str) -> bool:
    return bool(_BLOOD.match(fold(value).replace(" ", "")))


def is_payment_card(value: str) -> bool:
    """A Luhn-valid card number of a card scheme that issues in Vietnam (Visa, Mastercard, JCB, Amex, UnionPay, NAPAS)."""
    digits = _DIGIT_NOISE.sub("", value)
    if not (13 <= len(digits) <= 19 and digits.isdigit()):
        return False
    if not re.match(r"^(?:4|5[1-5]|2[2-7]|3[47]|35|62|9704)", digits):
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def is_bank_account_compatible(value: str) -> bool:
    digits = _DIGIT_NOISE.sub("", value)
    return 6 <= len(digits) <= 19 and digits.isdigit()


def is_health_insurance(value: str) -> bool:
    return bool(_HEALTH_INSURANCE.match(value.strip().replace(" ", "")))


def is_licence_plate(value: str) -> bool:
    return bool(_LICENCE_PLATE.match(value.strip().upper()))


def is_ip_address(value: str) -> bool:
    text = value.strip()
    return bool(_IPV4.match(text) or (text.count(":") >= 2 and _IPV6.match(text)))


def is_location(value: str) -> bool:
    match = _LAT_LNG.match(value.strip())
    return bool(match) and abs(float(match[1])) <= 90 and abs(float(match[2])) <= 180


def is_coordinate_compatible(value: str) -> bool:
    return is_location(value) or bool(_COORDINATE.match(value.strip()))


def is_image(value: str) -> bool:
    return bool(_IMAGE.search(value.strip()))


def is_digits(length: int) -> Callable[[str], bool]:
    def detector(value: str) -> bool:
        digits = _DIGIT_NOISE.sub("", value)
        return len(digits) == length and digits.isdigit()

    return detector


def is_online_account(value: str) -> bool:
    return bool(_ACCOUNT_NAME.match(value.strip())) or is_email(value)


def looks_like_code(value: str) -> bool:
    """A product code, SKU or record number: upper-case letters, digits and separators, no spaces, some digit."""
    text = value.strip()
    return bool(_CODE_LIKE.match(text)) and any(c.isdigit() for c in text)


@dataclass(frozen=True)
class Detector:
    """How values show one type: `alone` classifies a column by values; `confirm` backs a name."""

    alone: Callable[[str], bool] | None
    confirm: Callable[[str], bool]
    threshold: float = 0.8


DETECTORS: dict[str, Detector] = {
    # Order is the tie-break when two types match a column equally: the more specific pattern first.
    "email": Detector(is_email, is_email),
    "payment_card": Detector(is_payment_card, is_payment_card),
    "health_insurance": Detector(is_health_insurance, is_health_insurance),
    "licence_plate": Detector(is_licence_plate, is_licence_plate),
    "ip_address": Detector(is_ip_address, is_ip_address),
    "location": Detector(is_location, is_coordinate_compatible),
    "passport": Detector(is_passport, is_passport),
    "citizen_id": Detector(is_citizen_id, is_citizen_id_compatible),
    "phone": Detector(is_phone, is_phone_compatible),
    "tax_code": Detector(is_tax_code, is_tax_code_compatible),
    "date_of_birth": Detector(is_birth_date, is_birth_date),
    "blood_group": Detector(is_blood_group, is_blood_group, 0.9),
    "gender": Detector(is_gender, is_gender, 0.9),
    "marital_status": Detector(is_marital_status, is_marital_status),
    "religion": Detector(is_religion, is_religion),
    "ethnicity": Detector(is_ethnicity, is_ethnicity),
    "health": Detector(is_health, is_health, 0.7),
    "address": Detector(is_address, is_address, 0.7),
    "full_name": Detector(is_full_name, is_full_name, 0.7),
    # Confirm only: these values are too common outside personal data to classify a column alone.
    "nationality": Detector(None, is_nationality),
    "bank_account": Detector(None, is_bank_account_compatible),
    "social_insurance": Detector(None, is_digits(10)),
    "driving_licence": Detector(None, is_digits(12)),
    "online_account": Detector(None, is_online_account),
    "image": Detector(None, is_image),
}


def match_counts(values: Sequence[str]) -> dict[str, tuple[int, int]]:
    """For every type with a detector: (values matching `alone`, values matching `confirm`)."""
    # Each distinct value is folded once and tested once per detector, weighted by how often it occurs.
    distinct = [(prepare(value), count) for value, count in Counter(values).items()]
    counts: dict[str, tuple[int, int]] = {}
    for code, detector in DETECTORS.items():
        alone = sum(n for v, n in distinct if detector.alone(v)) if detector.alone is not None else 0
        confirm = alone if detector.confirm is detector.alone else sum(n for v, n in distinct if detector.confirm(v))
        counts[code] = (alone, confirm)
    return counts
