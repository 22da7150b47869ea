"""Source databases with Vietnamese sample data, for discovery's tests and benchmarks.

- `VALUES`: one generator per personal-data type (and a few non-personal kinds), seeded, so a test
  or a benchmark builds the same data every time.
- `build_source(engine, name)`: a real PostgreSQL or MariaDB database named `name` holding five
  tables: customers, medical records, payments, products (no personal data, one misleading
  `phone` column) and an import table whose columns are called `c1`, `c2`, ...; `EXPECTED` says
  what discovery must find in each. `drop_source` removes it.
- `read_only_connection(engine, name)`: a DB-API connection as a guarded caller would hand to
  `discover` (read-only session).

Servers: PostgreSQL at `DISCOVERY_PG_URL` (default postgresql://postgres@127.0.0.1:5432) and
MariaDB/MySQL at `DISCOVERY_MYSQL_URL` (default mysql://root@127.0.0.1:3306).
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import psycopg2
import pymysql

PG_URL = os.environ.get("DISCOVERY_PG_URL", "postgresql://postgres@127.0.0.1:5432")
MYSQL_URL = os.environ.get("DISCOVERY_MYSQL_URL", "mysql://root@127.0.0.1:3306")
ENGINES = ("postgresql", "mysql")

# --- Vietnamese vocabularies -------------------------------------------------------------------

FAMILY = (
    ["Nguyễn"] * 38
    + ["Trần"] * 11
    + ["Lê"] * 9
    + ["Phạm"] * 7
    + ["Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"] * 2
)
FAMILY += [
    "Dương",
    "Lý",
    "Đinh",
    "Trương",
    "Mai",
    "Trịnh",
    "Lâm",
    "Lương",
    "Hà",
    "Cao",
    "Tạ",
    "Quách",
    "Lưu",
    "Kiều",
    "Châu",
    "Đào",
    "Đoàn",
]
RARE_FAMILY = ["Lữ", "Thân", "Viên", "Ông", "Bạch", "Yên", "Khương", "Văn"]  # outside the classifier's list: names it may miss
MIDDLE_MALE = ["Văn", "Đức", "Minh", "Quốc", "Hữu", "Công", "Thành", "Anh", "Xuân", "Ngọc"]
MIDDLE_FEMALE = ["Thị", "Ngọc", "Thu", "Thanh", "Mỹ", "Kim", "Phương", "Hồng", "Bích", "Diệu"]
GIVEN_MALE = ["An", "Bình", "Cường", "Dũng", "Hùng", "Khánh", "Long", "Minh", "Nam", "Phúc", "Quang", "Sơn", "Tuấn", "Việt", "Huy", "Đạt"]
GIVEN_FEMALE = ["Anh", "Chi", "Dung", "Hà", "Hạnh", "Hoa", "Hương", "Lan", "Linh", "Mai", "Ngọc", "Nhung", "Oanh", "Trang", "Vy", "Yến"]
STREETS = [
    "Lê Lợi",
    "Nguyễn Huệ",
    "Trần Hưng Đạo",
    "Hai Bà Trưng",
    "Điện Biên Phủ",
    "Lý Thường Kiệt",
    "Cách Mạng Tháng Tám",
    "Phan Chu Trinh",
]
WARDS = ["Bến Nghé", "Bến Thành", "Đa Kao", "Hàng Bạc", "Tràng Tiền", "Cửa Nam", "Thạch Thang", "Phước Ninh", "Tân Định"]
DISTRICTS = ["1", "3", "10", "Bình Thạnh", "Hoàn Kiếm", "Ba Đình", "Hải Châu", "Cầu Giấy", "Thanh Khê"]
CITIES = ["TP. Hồ Chí Minh", "Hà Nội", "TP. Đà Nẵng", "TP. Hải Phòng", "TP. Cần Thơ"]
PROVINCES = ["Tỉnh Nghệ An", "Tỉnh Thanh Hóa", "Tỉnh Bình Dương", "Tỉnh Đồng Nai", "Tỉnh Lâm Đồng", "Tỉnh An Giang"]
DIAGNOSES = [
    "Viêm phổi cấp",
    "Tăng huyết áp độ 2",
    "Đái tháo đường type 2",
    "Gãy xương cẳng tay trái",
    "Viêm dạ dày mãn tính",
    "Sốt xuất huyết Dengue",
    "Hen phế quản",
    "Suy tim độ II",
    "Rối loạn lo âu",
    "Thoái hóa cột sống thắt lưng",
    "J18.9 - Viêm phổi",
    "E11.9",
    "I10 - Tăng huyết áp vô căn",
]
RELIGIONS = ["Phật giáo", "Công giáo", "Không", "Không", "Tin Lành", "Cao Đài", "Hòa Hảo", "Hồi giáo"]
ETHNIC_GROUPS = ["Kinh"] * 6 + ["Tày", "Thái", "Mường", "Khmer", "Hoa", "Nùng", "H'Mông", "Dao", "Gia Rai", "Ê Đê"]
COUNTRIES = ["Việt Nam"] * 6 + ["Hàn Quốc", "Nhật Bản", "Hoa Kỳ", "Trung Quốc", "Pháp", "Úc"]
MARITAL = ["Độc thân", "Đã kết hôn", "Đã kết hôn", "Ly hôn", "Góa"]
RELATIONS = ["Cha", "Mẹ", "Vợ", "Chồng", "Con", "Anh trai", "Chị gái"]
POLITICAL = ["Đảng viên", "Quần chúng", "Đoàn viên", "Không đảng phái"]
CRIMINAL = ["Không có tiền án", "Tiền án trộm cắp tài sản năm 2015", "Đã xóa án tích", "Không"]
SEXUAL = ["Dị tính", "Đồng tính", "Song tính", "Không tiết lộ"]
PRODUCTS = [
    "Cà phê sữa đá",
    "Trà đào cam sả",
    "Bánh mì thịt",
    "Nước mắm Phú Quốc",
    "Áo thun cotton",
    "Quần jean nam",
    "Nồi cơm điện",
    "Sữa tươi",
]
DRUGS = ["Thuốc hạ sốt Paracetamol 500mg", "Siro ho Prospan", "Thuốc đau dạ dày Phosphalugel", "Thuốc trị viêm họng", "Kem trị bỏng"]
CATEGORIES = ["Đồ uống", "Thực phẩm", "Thời trang", "Gia dụng", "Điện tử"]
STATUSES = ["Chờ xác nhận", "Đang giao", "Đã giao", "Đã hủy", "Hoàn tiền"]
MOBILE_PREFIXES = ["032", "033", "034", "035", "036", "037", "038", "039", "070", "076", "077", "078", "079", "081", "083", "085", "086"]
MOBILE_PREFIXES += ["088", "089", "090", "091", "093", "094", "096", "097", "098", "056", "058"]
CITIZEN_PROVINCES = ["001", "079", "048", "031", "092", "036", "038", "040", "074", "075", "066", "089"]
MAIL_DOMAINS = ["gmail.com", "yahoo.com.vn", "outlook.com", "fpt.vn", "vnpt.vn", "company.com.vn"]


def _strip(text: str) -> str:
    import unicodedata

    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def full_name(rng: random.Random) -> str:
    female = rng.random() < 0.5
    family = rng.choice(RARE_FAMILY) if rng.random() < 0.03 else rng.choice(FAMILY)
    middle = rng.choice(MIDDLE_FEMALE if female else MIDDLE_MALE)
    given = rng.choice(GIVEN_FEMALE if female else GIVEN_MALE)
    name = f"{family} {middle} {given}" if rng.random() < 0.85 else f"{family} {middle} {rng.choice(MIDDLE_MALE)} {given}"
    style = rng.random()
    if style < 0.1:
        return _strip(name).upper()  # exported from older systems: upper case, no diacritics
    if style < 0.2:
        return _strip(name)
    return name


def phone(rng: random.Random) -> str:
    body = rng.choice(MOBILE_PREFIXES)[1:] + "".join(rng.choice("0123456789") for _ in range(7))
    style = rng.random()
    if style < 0.5:
        return "0" + body
    if style < 0.7:
        return f"+84{body}"
    if style < 0.85:
        return f"0{body[:2]} {body[2:5]} {body[5:]}"
    return f"0{body[:2]}.{body[2:5]}.{body[5:]}"


def phone_digits(rng: random.Random) -> str:
    return "0" + rng.choice(MOBILE_PREFIXES)[1:] + "".join(rng.choice("0123456789") for _ in range(7))


def email(rng: random.Random) -> str:
    words = _strip(full_name(rng)).lower().split()
    local = rng.choice([words[-1] + words[0], ".".join(words[-1:] + words[:1]), words[-1] + "".join(w[0] for w in words[:-1])])
    return f"{local}{rng.randint(1, 9999) if rng.random() < 0.6 else ''}@{rng.choice(MAIL_DOMAINS)}"


def citizen_id(rng: random.Random) -> str:
    century = rng.choice("0123")
    year = rng.randint(40, 99) if century in "01" else rng.randint(0, 8)
    return f"{rng.choice(CITIZEN_PROVINCES)}{century}{year:02d}{rng.randint(0, 999999):06d}"


def old_identity_card(rng: random.Random) -> str:
    return f"{rng.randint(0, 399_999_999):09d}"


def passport(rng: random.Random) -> str:
    return rng.choice("BCNP") + f"{rng.randint(0, 9_999_999):07d}"


def tax_code(rng: random.Random) -> str:
    weights = (31, 29, 23, 19, 17, 13, 7, 5, 3)
    while True:
        head = "8" + "".join(rng.choice("0123456789") for _ in range(8))
        check = 10 - sum(int(d) * w for d, w in zip(head, weights, strict=True)) % 11
        if check < 10:
            return head + str(check)


def company_tax_code(rng: random.Random) -> str:
    code = "0" + str(rng.randint(1, 4)) + tax_code(rng)[2:9]
    weights = (31, 29, 23, 19, 17, 13, 7, 5, 3)
    check = 10 - sum(int(d) * w for d, w in zip(code, weights, strict=True)) % 11
    return company_tax_code(rng) if check == 10 else code + str(check)


def birth_date(rng: random.Random) -> date:
    return date(1945, 1, 1) + timedelta(days=rng.randint(0, 63 * 365))


def address(rng: random.Random) -> str:
    style = rng.random()
    if style < 0.5:
        return (
            f"{rng.randint(1, 300)} {rng.choice(STREETS)}, Phường {rng.choice(WARDS)}, Quận {rng.choice(DISTRICTS)}, {rng.choice(CITIES)}"
        )
    if style < 0.75:
        return f"Số {rng.randint(1, 99)} ngõ {rng.randint(1, 200)} phố {rng.choice(STREETS)}, Phường {rng.choice(WARDS)}, Hà Nội"
    if style < 0.9:
        return f"Thôn {rng.randint(1, 12)}, Xã {rng.choice(WARDS)}, Huyện {rng.choice(DISTRICTS)}, {rng.choice(PROVINCES)}"
    return _strip(f"{rng.randint(1, 300)} {rng.choice(STREETS)}, P. {rng.choice(WARDS)}, Q. {rng.choice(DISTRICTS)}, {rng.choice(CITIES)}")


def bank_account(rng: random.Random) -> str:
    return rng.choice(["0071", "1903", "1201", "1010", "0451", "2100"]) + "".join(
        rng.choice("0123456789") for _ in range(rng.randint(8, 10))
    )


def payment_card(rng: random.Random) -> str:
    digits = [int(c) for c in rng.choice(["4", "51", "52", "9704", "35"])]
    while len(digits) < 15:
        digits.append(rng.randint(0, 9))
    total = 0
    for index, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if index % 2 == 0 else digit
        total += doubled - 9 if doubled > 9 else doubled
    digits.append((10 - total % 10) % 10)
    text = "".join(map(str, digits))
    return " ".join(text[i : i + 4] for i in range(0, 16, 4)) if rng.random() < 0.3 else text


def licence_plate(rng: random.Random) -> str:
    series = rng.choice("ABCDEFGHKLM") + rng.choice(["", "1", "2"])
    return f"{rng.choice(['29', '30', '51', '59', '43', '15'])}{series}-{rng.randint(0, 999):03d}.{rng.randint(0, 99):02d}"


def health_insurance(rng: random.Random) -> str:
    holder = rng.choice(["DN", "HT", "GD", "HS", "CH", "TE"]) + str(rng.randint(1, 5))
    return f"{holder}{rng.choice(['01', '79', '48', '31'])}{rng.randint(0, 9_999_999_999):010d}"


def ip_address(rng: random.Random) -> str:
    return ".".join(str(rng.randint(1, 254)) for _ in range(4))


def location(rng: random.Random) -> str:
    return f"{rng.uniform(8.5, 23.3):.6f}, {rng.uniform(102.2, 109.4):.6f}"


def username(rng: random.Random) -> str:
    words = _strip(full_name(rng)).lower().split()
    return f"{words[-1]}_{words[0]}{rng.randint(1, 999)}"


def avatar(rng: random.Random) -> str:
    return f"https://cdn.example.vn/avatars/{rng.randint(1, 10**6)}.{rng.choice(['jpg', 'png', 'webp'])}"


def blood_group(rng: random.Random) -> str:
    return rng.choice(["A+", "A-", "B+", "B-", "O+", "O-", "AB+", "AB-", "A", "B", "O", "AB"])


def product_code(rng: random.Random) -> str:
    return rng.choice(["SP", "HH", "IP15-PRO", "SKU", "VT"]) + f"-{rng.randint(1, 99999):05d}"


def order_date(rng: random.Random) -> date:
    return date(2023, 1, 1) + timedelta(days=rng.randint(0, 900))


def order_time(rng: random.Random) -> datetime:
    return datetime(2024, 1, 1, 8) + timedelta(seconds=rng.randint(0, 40_000_000))


def barcode(rng: random.Random) -> str:
    digits = [8, 9, 3] + [rng.randint(0, 9) for _ in range(9)]
    check = (10 - sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10
    return "".join(map(str, digits + [check]))


def amount(rng: random.Random) -> Decimal:
    return Decimal(rng.randint(10, 50_000)) * 1000


def description(rng: random.Random) -> str:
    return f"{rng.choice(PRODUCTS)} - {rng.choice(CATEGORIES).lower()}, đóng gói {rng.randint(1, 24)} sản phẩm"


def _pick(options: list[str]) -> Callable[[random.Random], str]:
    return lambda rng: rng.choice(options)


VALUES: dict[str, Callable[[random.Random], Any]] = {
    # Personal-data types.
    "full_name": full_name,
    "phone": phone,
    "email": email,
    "citizen_id": citizen_id,
    "passport": passport,
    "tax_code": tax_code,
    "date_of_birth": birth_date,
    "address": address,
    "gender": _pick(["Nam", "Nữ"]),
    "nationality": _pick(COUNTRIES),
    "marital_status": _pick(MARITAL),
    "religion": _pick(RELIGIONS),
    "ethnicity": _pick(ETHNIC_GROUPS),
    "blood_group": blood_group,
    "health": _pick(DIAGNOSES),
    "bank_account": bank_account,
    "payment_card": payment_card,
    "licence_plate": licence_plate,
    "health_insurance": health_insurance,
    "ip_address": ip_address,
    "location": location,
    "social_insurance": lambda rng: f"{rng.randint(0, 9_999_999_999):010d}",
    "driving_licence": lambda rng: f"{rng.randint(0, 999_999_999_999):012d}",
    "online_account": username,
    "image": avatar,
    "family_relation": _pick(RELATIONS),
    "political_view": _pick(POLITICAL),
    "criminal_record": _pick(CRIMINAL),
    "sex_life": _pick(SEXUAL),
    "genetic": lambda rng: "".join(rng.choice("ACGT") for _ in range(24)),
    "biometric": lambda rng: rng.randbytes(64),
    # Not personal.
    "product_code": product_code,
    "product_name": _pick(PRODUCTS),
    "category": _pick(CATEGORIES),
    "status": _pick(STATUSES),
    "order_date": order_date,
    "order_time": order_time,
    "barcode": barcode,
    "amount": amount,
    "quantity": lambda rng: rng.randint(1, 500),
    "description": description,
    "invoice_number": lambda rng: f"HD{rng.randint(2023, 2025)}{rng.randint(0, 999999):06d}",
    "company_tax_code": company_tax_code,
    "warehouse_address": address,
    "flag": lambda rng: rng.random() < 0.5,
    # Hard cases of the benchmark (`HARD_COLUMNS`).
    "old_identity_card": old_identity_card,
    "rare_full_name": lambda rng: f"{rng.choice(RARE_FAMILY)} {rng.choice(MIDDLE_MALE)} {rng.choice(GIVEN_MALE)}",
    "phone_as_number": lambda rng: int(phone_digits(rng)),
    "drug_name": _pick(DRUGS),
}
NOT_PERSONAL = frozenset(
    {
        "product_code",
        "product_name",
        "category",
        "status",
        "order_date",
        "order_time",
        "barcode",
        "amount",
        "quantity",
        "description",
        "invoice_number",
        "company_tax_code",
        "warehouse_address",
        "flag",
    }
)

# --- the five-table source -----------------------------------------------------------------------


@dataclass(frozen=True)
class SourceColumn:
    """A column of the sample source: its name, SQL type per engine, what fills it and what discovery must say."""

    name: str
    pg_type: str
    mysql_type: str
    kind: str  # a key of VALUES
    expected: str | None  # the personal-data type discovery must report, None = not personal


def _text(name: str, kind: str, expected: str | None, length: int = 200) -> SourceColumn:
    return SourceColumn(name, "text", f"varchar({length})", kind, expected)


SOURCE_TABLES: dict[str, tuple[SourceColumn, ...]] = {
    "khach_hang": (
        _text("ho_ten", "full_name", "full_name"),
        SourceColumn("ngay_sinh", "date", "date", "date_of_birth", "date_of_birth"),
        _text("gioi_tinh", "gender", "gender", 10),
        _text("so_dien_thoai", "phone", "phone", 20),
        _text("email", "email", "email"),
        _text("cccd", "citizen_id", "citizen_id", 12),
        _text("dia_chi", "address", "address"),
        _text("ma_so_thue", "tax_code", "tax_code", 14),
        SourceColumn("created_at", "timestamptz", "datetime", "order_time", None),
    ),
    "benh_an": (
        _text("ma_benh_an", "invoice_number", None, 20),
        _text("benhNhan", "full_name", "full_name"),
        _text("chan_doan", "health", "health"),
        _text("nhom_mau", "blood_group", "blood_group", 5),
        SourceColumn("ngay_kham", "date", "date", "order_date", None),
    ),
    "thanh_toan": (
        _text("so_tai_khoan", "bank_account", "bank_account", 20),
        _text("so_the", "payment_card", "payment_card", 20),
        SourceColumn("so_tien", "numeric(14,0)", "decimal(14,0)", "amount", None),
        SourceColumn("thoi_gian", "timestamptz", "datetime", "order_time", None),
        _text("trang_thai", "status", None, 40),
    ),
    "san_pham": (
        _text("ma_san_pham", "product_code", None, 20),
        _text("ten_san_pham", "product_name", None),
        _text("phone", "product_code", None, 20),  # a phone model code: the name misleads, the values decide
        SourceColumn("gia", "numeric(14,0)", "decimal(14,0)", "amount", None),
        SourceColumn("so_luong", "integer", "int", "quantity", None),
        _text("ma_vach", "barcode", None, 13),
        _text("mo_ta", "description", None),
    ),
    "du_lieu_nhap": (
        _text("c1", "full_name", "full_name"),
        _text("c2", "phone", "phone", 20),
        _text("c3", "citizen_id", "citizen_id", 12),
        _text("c4", "email", "email"),
        _text("c5", "address", "address"),
        _text("c6", "religion", "religion", 40),
        SourceColumn("c7", "numeric(14,0)", "decimal(14,0)", "amount", None),
    ),
}
EXPECTED_CATEGORY: dict[str, str | None] = {
    "khach_hang": "basic",
    "benh_an": "sensitive",
    "thanh_toan": "sensitive",
    "san_pham": None,
    "du_lieu_nhap": "sensitive",
}
"""Per table: the category of the processing activity it becomes (None: no personal data, no activity)."""
SOURCE_ROWS = 200


def _server(url: str, default_port: int) -> dict[str, Any]:
    parts = urlsplit(url)
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or default_port,
        "user": parts.username,
        "password": parts.password or "",
    }


def admin_connection(engine: str, database: str | None = None) -> Any:
    """An autocommit connection to the server (to `database`, or the server's maintenance database)."""
    if engine == "postgresql":
        server = _server(PG_URL, 5432)
        conn = psycopg2.connect(
            host=server["host"],
            port=server["port"],
            user=server["user"] or "postgres",
            password=server["password"],
            dbname=database or "postgres",
            connect_timeout=5,
        )
        conn.autocommit = True
        return conn
    server = _server(MYSQL_URL, 3306)
    return pymysql.connect(
        host=server["host"],
        port=server["port"],
        user=server["user"] or "root",
        password=server["password"],
        database=database,
        charset="utf8mb4",
        autocommit=True,
        connect_timeout=5,
        local_infile=False,
    )


def read_only_connection(engine: str, database: str) -> Any:
    """A connection as a guarded caller hands it to `discover`: every transaction read-only."""
    if engine == "postgresql":
        server = _server(PG_URL, 5432)
        return psycopg2.connect(
            host=server["host"],
            port=server["port"],
            user=server["user"] or "postgres",
            password=server["password"],
            dbname=database,
            connect_timeout=5,
            options="-c default_transaction_read_only=on",
        )
    conn = admin_connection("mysql", database)
    with conn.cursor() as cursor:
        cursor.execute("SET SESSION TRANSACTION READ ONLY")
    return conn


def quote(engine: str, name: str) -> str:
    """An identifier quoted for `engine`."""
    return '"' + name.replace('"', '""') + '"' if engine == "postgresql" else "`" + name.replace("`", "``") + "`"


def create_database(engine: str, name: str) -> None:
    """Create an empty database `name` (dropped first if it exists)."""
    drop_database(engine, name)
    conn = admin_connection(engine)
    try:
        with conn.cursor() as cursor:
            suffix = "" if engine == "postgresql" else " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            cursor.execute(f"CREATE DATABASE {quote(engine, name)}{suffix}")
    finally:
        conn.close()


def drop_database(engine: str, name: str) -> None:
    """Drop database `name` if it exists (PostgreSQL: also when sessions are still connected)."""
    conn = admin_connection(engine)
    try:
        with conn.cursor() as cursor:
            force = " WITH (FORCE)" if engine == "postgresql" else ""
            cursor.execute(f"DROP DATABASE IF EXISTS {quote(engine, name)}{force}")
    finally:
        conn.close()


def create_table(engine: str, conn: Any, table: str, columns: tuple[SourceColumn, ...], rows: int, rng: random.Random) -> None:
    """Create `table` with an integer key and `columns`, and fill it with `rows` generated rows."""
    key = "id bigserial PRIMARY KEY" if engine == "postgresql" else "id bigint AUTO_INCREMENT PRIMARY KEY"
    definitions = ", ".join(f"{quote(engine, c.name)} {c.pg_type if engine == 'postgresql' else c.mysql_type}" for c in columns)
    with conn.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {quote(engine, table)} ({key}, {definitions})")
        names = ", ".join(quote(engine, c.name) for c in columns)
        placeholders = ", ".join(["%s"] * len(columns))
        data = [tuple(VALUES[c.kind](rng) for c in columns) for _ in range(rows)]
        cursor.executemany(f"INSERT INTO {quote(engine, table)} ({names}) VALUES ({placeholders})", data)
        if engine == "postgresql":
            cursor.execute(f"ANALYZE {quote(engine, table)}")
        else:
            cursor.execute(f"ANALYZE TABLE {quote(engine, table)}")
            cursor.fetchall()


def build_source(engine: str, name: str, *, seed: int = 13) -> None:
    """Create database `name` on `engine` with the five sample tables (`SOURCE_TABLES`), `SOURCE_ROWS` rows each."""
    create_database(engine, name)
    rng = random.Random(seed)
    conn = admin_connection(engine, name)
    try:
        for table, columns in SOURCE_TABLES.items():
            create_table(engine, conn, table, columns, SOURCE_ROWS, rng)
    finally:
        conn.close()


drop_source = drop_database


@contextmanager
def source(engine: str, name: str) -> Iterator[str]:
    """The sample source `name` for the duration of a `with` block, dropped afterwards."""
    build_source(engine, name)
    try:
        yield name
    finally:
        drop_source(engine, name)


def server_available(engine: str) -> bool:
    """Whether `engine`'s server answers (tests that need it fail loudly when not; this is for messages)."""
    try:
        admin_connection(engine).close()
    except Exception:  # noqa: BLE001 - any failure to connect means "not available"
        return False
    return True


# --- the labelled corpus of the classification benchmark ---------------------------------------

# How real schemas name each type: Vietnamese and English, snake and camel case, with and without diacritics.
NAME_VARIANTS: dict[str, list[str]] = {
    "full_name": [
        "ho_ten",
        "hoTen",
        "HoVaTen",
        "ho_va_ten",
        "ten_khach_hang",
        "TenKH",
        "full_name",
        "customerName",
        "họ_tên",
        "ten_benh_nhan",
    ],
    "phone": [
        "so_dien_thoai",
        "soDienThoai",
        "sdt",
        "SDT",
        "dien_thoai",
        "phone",
        "mobile",
        "sodienthoai",
        "số_điện_thoại",
        "phone_number",
    ],
    "email": ["email", "Email", "e_mail", "dia_chi_email", "emailAddress", "thu_dien_tu"],
    "citizen_id": ["cccd", "CCCD", "so_cccd", "soCMND", "cmnd", "can_cuoc", "so_dinh_danh", "national_id"],
    "passport": ["ho_chieu", "so_ho_chieu", "passport", "passportNo"],
    "tax_code": ["ma_so_thue", "mst", "MST", "maSoThue", "tax_code"],
    "date_of_birth": ["ngay_sinh", "ngaySinh", "dob", "birth_date", "ngày_sinh", "date_of_birth"],
    "address": ["dia_chi", "diaChi", "dia_chi_thuong_tru", "noi_o", "address", "que_quan", "địa_chỉ", "tam_tru"],
    "gender": ["gioi_tinh", "gioiTinh", "gender", "sex"],
    "marital_status": ["tinh_trang_hon_nhan", "hon_nhan", "marital_status"],
    "religion": ["ton_giao", "tonGiao", "religion", "tôn_giáo"],
    "ethnicity": ["dan_toc", "danToc", "ethnicity"],
    "blood_group": ["nhom_mau", "nhomMau", "blood_type"],
    "health": ["chan_doan", "benh_an", "tien_su_benh", "chanDoan", "diagnosis", "benh_ly", "ket_qua_kham"],
    "payment_card": ["so_the", "card_number", "so_the_tin_dung"],
    "licence_plate": ["bien_so_xe", "bienSo", "license_plate"],
    "health_insurance": ["so_the_bhyt", "ma_bhyt", "bhyt"],
    "ip_address": ["ip_address", "dia_chi_ip", "client_ip", "ip"],
    "location": ["toa_do", "vi_tri", "gps", "location"],
    "nationality": ["quoc_tich", "quocTich", "nationality"],
    "bank_account": ["so_tai_khoan", "stk", "soTaiKhoan", "account_number", "tai_khoan_ngan_hang"],
    "social_insurance": ["so_bhxh", "ma_bhxh", "maBHXH"],
    "driving_licence": ["so_gplx", "bang_lai", "gplx"],
    "online_account": ["ten_dang_nhap", "username", "tenDangNhap"],
    "image": ["anh_dai_dien", "avatar", "anh_the"],
    "family_relation": ["quan_he", "moi_quan_he", "nguoi_than"],
    "political_view": ["quan_diem_chinh_tri", "dang_phai"],
    "criminal_record": ["tien_an", "an_tich", "ly_lich_tu_phap"],
    "sex_life": ["xu_huong_tinh_duc", "sexual_orientation"],
    "genetic": ["ma_gen", "dna", "du_lieu_di_truyen"],
    "biometric": ["van_tay", "vanTay", "khuon_mat", "fingerprint"],
}
# Types whose values are distinctive enough to be found under any name (c1, c2 ...) or a misleading one.
VALUE_TYPES = [
    "full_name",
    "phone",
    "email",
    "citizen_id",
    "passport",
    "tax_code",
    "date_of_birth",
    "address",
    "gender",
    "marital_status",
    "religion",
    "ethnicity",
    "blood_group",
    "health",
    "payment_card",
    "licence_plate",
    "health_insurance",
    "ip_address",
    "location",
]
# Columns of business tables: (name, kind), none personal. The organisation's own address, phone
# and tax code are not personal data.
NON_PERSONAL_COLUMNS = [
    ("ma_san_pham", "product_code"),
    ("sku", "product_code"),
    ("ten_san_pham", "product_name"),
    ("gia", "amount"),
    ("total", "amount"),
    ("so_luong", "quantity"),
    ("ma_vach", "barcode"),
    ("mo_ta", "description"),
    ("trang_thai", "status"),
    ("ngay_dat", "order_date"),
    ("created_at", "order_time"),
    ("so_hoa_don", "invoice_number"),
    ("danh_muc", "category"),
    ("dia_chi_kho", "warehouse_address"),
    ("ma_so_thue_cong_ty", "company_tax_code"),
    ("sdt_cong_ty", "phone"),
    ("is_active", "flag"),
]
ORGANISATION_KINDS = frozenset({"warehouse_address", "company_tax_code", "phone"})
# A type's name with another type's values is labelled with the values' type, except where the
# values are legitimately the named type too: since July 2025 a person's tax code is their
# 12-digit identification number.
_AMBIGUOUS_PAIRS = {("tax_code", "citizen_id")}


@dataclass(frozen=True)
class CorpusColumn:
    """A benchmark column: its name, what fills it, its true label, and which case of the corpus it is."""

    name: str
    kind: str
    label: str | None
    case: str  # named | meaningless | misleading | misleading_code | business


def corpus_columns(rng: random.Random, count: int) -> list[CorpusColumn]:
    """`count` labelled columns: about half named for their type, a fifth called c1, c2 ..., a sixth
    with a misleading name (another type's, or a personal name over product codes), the rest business columns."""
    columns: list[CorpusColumn] = []
    named_types = list(NAME_VARIANTS)
    for index in range(count):
        roll = rng.random()
        if roll < 0.48:
            kind = named_types[index % len(named_types)]
            columns.append(CorpusColumn(rng.choice(NAME_VARIANTS[kind]), kind, kind, "named"))
        elif roll < 0.68:
            kind = rng.choice(VALUE_TYPES)
            columns.append(CorpusColumn(f"c{index}", kind, kind, "meaningless"))
        elif roll < 0.78:
            named, kind = rng.sample(VALUE_TYPES, 2)
            label = named if (named, kind) in _AMBIGUOUS_PAIRS else kind
            columns.append(CorpusColumn(rng.choice(NAME_VARIANTS[named]), kind, label, "misleading"))
        elif roll < 0.84:
            named = rng.choice(VALUE_TYPES)
            columns.append(
                CorpusColumn(rng.choice(NAME_VARIANTS[named]), rng.choice(["product_code", "invoice_number"]), None, "misleading_code")
            )
        else:
            name, kind = rng.choice(NON_PERSONAL_COLUMNS)
            # Only its name says an organisation's address or phone is not a person's: keep it.
            if rng.random() < 0.3 and kind not in ORGANISATION_KINDS:
                name = f"c{index}"
            columns.append(CorpusColumn(name, kind, None, "business"))
    return columns


def sql_type(engine: str, kind: str) -> str:
    """The column type a source would give values of `kind`."""
    if kind == "phone_as_number":
        return "bigint"
    if kind in ("date_of_birth", "order_date"):
        return "date"
    if kind == "order_time":
        return "timestamp" if engine == "postgresql" else "datetime"
    if kind == "biometric":
        return "bytea" if engine == "postgresql" else "blob"
    if kind == "amount":
        return "numeric(14,0)" if engine == "postgresql" else "decimal(14,0)"
    if kind == "quantity":
        return "integer"
    if kind == "flag":
        return "boolean"
    return "text" if engine == "postgresql" else "varchar(255)"


def corpus_value(kind: str, rng: random.Random, *, noisy: bool) -> Any:
    """One value of `kind`; a tenth are NULL, and in noisy columns one in twenty is filler ("N/A", "-", "0")."""
    if rng.random() < 0.1:
        return None
    value = VALUES[kind](rng)
    if noisy and isinstance(value, str) and rng.random() < 0.05:
        return rng.choice(["N/A", "-", "0", "không rõ"])
    return value


HARD_COLUMNS: list[CorpusColumn] = [
    # Values no detector can tell alone: bank account numbers, country names and 9-digit identity
    # card numbers look like order numbers and product origins; a phone stored as a number lost its 0.
    CorpusColumn("c_a", "bank_account", "bank_account", "hard"),
    CorpusColumn("c_b", "nationality", "nationality", "hard"),
    CorpusColumn("c_c", "old_identity_card", "citizen_id", "hard"),
    CorpusColumn("c_d", "phone_as_number", "phone", "hard"),
    # Names whose family name is outside the classifier's list.
    CorpusColumn("c_e", "rare_full_name", "full_name", "hard"),
    # A person's-name column holding product names keeps its name's type (free text is not a contradiction).
    CorpusColumn("ho_ten", "product_name", None, "hard"),
    # Medicine names mention symptoms: a pharmacy's product list reads like diagnoses.
    CorpusColumn("ten_thuoc", "drug_name", None, "hard"),
]
"""Columns the classifier is known to get wrong, measured apart from the corpus (outside its target)."""
