"""Shared by the data-source tests: real PostgreSQL and MariaDB source databases with Vietnamese sample data.

Each source is a database of its own, `src_k_<name>`, on the machine's PostgreSQL (127.0.0.1:5432)
or MariaDB (127.0.0.1:3306), built by the tests and dropped after them: customers, medical
records, payments, products with no personal data, and a table whose columns are called c1, c2, ...
"""

from __future__ import annotations

import random

import psycopg2
import pymysql
import pytest

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"]
MIDDLE = ["Văn", "Thị", "Hữu", "Minh", "Ngọc", "Thanh", "Quốc", "Đức"]
GIVEN = ["An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hùng", "Lan", "Linh", "Phương", "Quân", "Thảo", "Tuấn", "Yến"]
STREETS = ["Lê Lợi", "Nguyễn Huệ", "Trần Hưng Đạo", "Hai Bà Trưng", "Lý Thường Kiệt"]
DISTRICTS = [
    "Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh",
    "Phường Tràng Tiền, Quận Hoàn Kiếm, Hà Nội",
    "Phường Hải Châu 1, Quận Hải Châu, Đà Nẵng",
]
DIAGNOSES = ["Viêm phổi cấp", "Tăng huyết áp độ 2", "Đái tháo đường type 2", "Viêm dạ dày mạn tính", "Sốt xuất huyết Dengue"]
PRODUCTS = ["Bàn gỗ sồi", "Ghế xoay văn phòng", "Tủ sách ba tầng", "Đèn bàn LED", "Kệ tivi"]
ROWS = 60


def _rows(seed: int = 16):
    rng = random.Random(seed)
    people = []
    for i in range(ROWS):
        name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        phone = f"0{rng.choice(['90', '91', '98', '97', '86', '35'])}{rng.randrange(10**7):07d}"
        email = f"khachhang{i}@example.vn"
        year = rng.randrange(1950, 2005)
        # CCCD: province code, a sex-and-century digit (0/1 for the 1900s, 2/3 for the 2000s), the
        # birth year's last two digits, six random digits.
        century = (0 if year < 2000 else 2) + rng.randrange(2)
        cccd = f"{rng.choice(['001', '079', '048'])}{century}{year % 100:02d}{rng.randrange(10**6):06d}"
        address = f"{rng.randrange(1, 300)} {rng.choice(STREETS)}, {rng.choice(DISTRICTS)}"
        born = f"{year}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        people.append((name, phone, email, cccd, address, born))
    return rng, people


SCHEMA = [
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, ho_ten VARCHAR(100), so_dien_thoai VARCHAR(20), email VARCHAR(100), "
    "cccd VARCHAR(12), dia_chi VARCHAR(200), ngay_sinh DATE)",
    "CREATE TABLE medical_records (id INTEGER PRIMARY KEY, ho_ten_benh_nhan VARCHAR(100), chan_doan VARCHAR(200), benh_an TEXT)",
    "CREATE TABLE payments (id INTEGER PRIMARY KEY, so_tai_khoan VARCHAR(20), ten_chu_tai_khoan VARCHAR(100), so_tien INTEGER)",
    "CREATE TABLE products (id INTEGER PRIMARY KEY, ten_san_pham VARCHAR(100), gia INTEGER, so_luong_ton INTEGER)",
    "CREATE TABLE t_misc (id INTEGER PRIMARY KEY, c1 VARCHAR(100), c2 VARCHAR(20), c3 VARCHAR(100), c4 INTEGER)",
]


def _inserts(placeholder: str):
    rng, people = _rows()
    p = placeholder
    yield (
        f"INSERT INTO customers VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p})",
        [(i, *person) for i, person in enumerate(people)],
    )
    yield (
        f"INSERT INTO medical_records VALUES ({p}, {p}, {p}, {p})",
        [
            (i, person[0], rng.choice(DIAGNOSES), f"Bệnh nhân nhập viện, chẩn đoán {rng.choice(DIAGNOSES).lower()}")
            for i, person in enumerate(people)
        ],
    )
    yield (
        f"INSERT INTO payments VALUES ({p}, {p}, {p}, {p})",
        [(i, f"{rng.randrange(10**12, 10**13)}", person[0], rng.randrange(100_000, 50_000_000)) for i, person in enumerate(people)],
    )
    yield (
        f"INSERT INTO products VALUES ({p}, {p}, {p}, {p})",
        [(i, f"{rng.choice(PRODUCTS)} mẫu {i}", rng.randrange(100_000, 9_000_000), rng.randrange(0, 500)) for i in range(ROWS)],
    )
    yield (
        f"INSERT INTO t_misc VALUES ({p}, {p}, {p}, {p}, {p})",
        [(i, person[0], person[1], person[2], rng.randrange(1000)) for i, person in enumerate(people)],
    )


def pg_admin():
    connection = psycopg2.connect(dbname="postgres", **PG)
    connection.autocommit = True
    return connection


def pg_source_create(name: str) -> str:
    """A PostgreSQL source database `name` with the sample tables; returns its DSN."""
    admin = pg_admin()
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    connection = psycopg2.connect(dbname=name, **PG)
    with connection, connection.cursor() as cursor:
        for statement in SCHEMA:
            cursor.execute(statement)
        for sql, rows in _inserts("%s"):
            cursor.executemany(sql, rows)
        cursor.execute("ANALYZE")
    connection.close()
    return f"postgresql://postgres:mat-khau-bi-mat@127.0.0.1:5432/{name}"


def pg_source_execute(name: str, *statements: str) -> None:
    connection = psycopg2.connect(dbname=name, **PG)
    with connection, connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    connection.close()


def pg_source_drop(name: str) -> None:
    admin = pg_admin()
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def mariadb_available() -> bool:
    try:
        pymysql.connect(connect_timeout=2, **MARIADB).close()
    except pymysql.err.OperationalError:
        return False
    return True


def mariadb_source_create(name: str) -> str:
    """A MariaDB source database `name` with the sample tables; returns its DSN."""
    if not mariadb_available():
        pytest.fail("MariaDB does not answer at 127.0.0.1:3306 (scripts/test starts it: ensure_mariadb in scripts/lib.sh)")
    connection = pymysql.connect(charset="utf8mb4", autocommit=True, **MARIADB)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        cursor.execute(f"USE `{name}`")
        for statement in SCHEMA:
            cursor.execute(statement)
        for sql, rows in _inserts("%s"):
            cursor.executemany(sql, rows)
        cursor.execute("ANALYZE TABLE customers, medical_records, payments, products, t_misc")
        cursor.fetchall()
    connection.close()
    return f"mysql://root@127.0.0.1:3306/{name}"


def mariadb_source_drop(name: str) -> None:
    connection = pymysql.connect(autocommit=True, **MARIADB)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
    connection.close()
