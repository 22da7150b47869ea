"""Discovery's classifier, column by column: name rules, value detectors, and how they combine."""

from __future__ import annotations

import random

import pytest

from inventory.discovery import PERSONAL_DATA_TYPES, personal_data_type_label, reason_label
from inventory.discovery.classify import classify_column
from inventory.discovery.names import match_name, organisation_qualified
from inventory.discovery.personal_data import category_of
from inventory.discovery.text import fold, name_tokens
from inventory.discovery.values import (
    is_address,
    is_birth_date,
    is_citizen_id,
    is_full_name,
    is_payment_card,
    is_phone,
    is_tax_code,
)
from inventory.tests import discovery_support as support


def sample(kind: str, n: int = 60, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [str(support.VALUES[kind](rng)) for _ in range(n)]


# --- names --------------------------------------------------------------------------------------


def test_names_are_folded_to_ascii_words_whatever_their_case_or_diacritics():
    assert fold("Nguyễn Văn Đức") == "nguyen van duc"
    for name in ("so_dien_thoai", "soDienThoai", "SoDienThoai", "SO_DIEN_THOAI", "số điện thoại", "so-dien-thoai"):
        assert name_tokens(name) == ("so", "dien", "thoai"), name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ho_ten", "full_name"),
        ("hoTen", "full_name"),
        ("HoVaTen", "full_name"),
        ("họ_tên", "full_name"),
        ("customer_name", "full_name"),
        ("so_dien_thoai", "phone"),
        ("sodienthoai", "phone"),
        ("sdt", "phone"),
        ("SDT", "phone"),
        ("mobilePhone", "phone"),
        ("cccd", "citizen_id"),
        ("so_cmnd", "citizen_id"),
        ("soCCCD", "citizen_id"),
        ("ho_chieu", "passport"),
        ("passport_no", "passport"),
        ("ma_so_thue", "tax_code"),
        ("mst", "tax_code"),
        ("email", "email"),
        ("dia_chi_email", "email"),
        ("ngay_sinh", "date_of_birth"),
        ("ngaySinh", "date_of_birth"),
        ("dob", "date_of_birth"),
        ("dia_chi", "address"),
        ("diaChiThuongTru", "address"),
        ("ip_address", "ip_address"),
        ("so_tai_khoan", "bank_account"),
        ("stk", "bank_account"),
        ("so_the", "payment_card"),
        ("ton_giao", "religion"),
        ("benh_an", "health"),
        ("chan_doan", "health"),
        ("tien_su_benh", "health"),
        ("nhom_mau", "blood_group"),
        ("van_tay", "biometric"),
        ("dan_toc", "ethnicity"),
        ("gioi_tinh", "gender"),
        ("quoc_tich", "nationality"),
        ("tinh_trang_hon_nhan", "marital_status"),
        ("tien_an", "criminal_record"),
        ("bien_so_xe", "licence_plate"),
        ("so_the_bhyt", "health_insurance"),
        ("vi_do", "location"),
    ],
)
def test_a_name_suggests_its_type(name, expected):
    matched = match_name(name)
    assert matched is not None and matched.code == expected, (name, matched)


@pytest.mark.parametrize(
    "name", ["c1", "c2", "col_7", "id", "gia", "so_luong", "ten_san_pham", "created_at", "trang_thai", "mo_ta", "tin_nhan"]
)
def test_meaningless_and_business_names_suggest_nothing(name):
    assert match_name(name) is None


@pytest.mark.parametrize("name", ["dia_chi_kho", "sdt_cong_ty", "ma_so_thue_cong_ty", "companyPhone", "email_nha_cung_cap"])
def test_an_organisations_columns_are_not_a_persons(name):
    assert organisation_qualified(name)
    assert classify_column(name, "text", sample("warehouse_address")).personal_data_type is None


# --- values -------------------------------------------------------------------------------------


def test_value_detectors_accept_real_shapes_and_refuse_near_misses():
    assert is_phone("0912345678") and is_phone("+84 912 345 678") and is_phone("091.234.5678") and is_phone("02438251234")
    assert not is_phone("0951234567")  # 095 is no Vietnamese mobile prefix
    assert not is_phone("091234567")  # one digit short
    assert is_citizen_id("001203012345") and not is_citizen_id("003203012345")  # 003 is no province code
    assert is_tax_code("0100109106") and is_tax_code("0100109106-001") and not is_tax_code("0100109107")  # check digit
    assert is_payment_card("4111 1111 1111 1111") and not is_payment_card("4111 1111 1111 1112")  # Luhn
    assert is_full_name("Nguyễn Văn An") and is_full_name("TRAN THI BICH NGOC")
    assert not is_full_name("Công ty TNHH Minh Long") and not is_full_name("Áo thun cotton")
    assert is_address("12 Lê Lợi, Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh")
    assert is_address("Thôn 3, Xã Tân Lập, Huyện Đan Phượng, Hà Nội")
    assert not is_address("Quần jean nam size 32") and not is_address("Trần Văn An, Hà Nội")
    assert is_birth_date("1985-03-12") and is_birth_date("12/03/1985")
    assert not is_birth_date("2024-03-12 10:11:12")  # a timestamp with a time of day is an event


# --- combining name and values ------------------------------------------------------------------


# Birth dates need a date column and a spread of adult ages: the test after this one covers them.
@pytest.mark.parametrize("kind", [kind for kind in support.VALUE_TYPES if kind != "date_of_birth"])
def test_a_meaningless_name_is_classified_by_its_values(kind):
    verdict = classify_column("c3", "text", sample(kind))
    assert (verdict.personal_data_type, verdict.reason) == (kind, "values")
    assert verdict.sampled == 60 and verdict.matched >= 0.7 * 60


def test_birth_dates_are_told_from_recent_business_dates_by_values_alone():
    assert classify_column("c4", "date", sample("date_of_birth")).personal_data_type == "date_of_birth"
    assert classify_column("c4", "date", sample("order_date")).personal_data_type is None


def test_a_misleading_name_follows_the_values():
    # A column called phone that holds product codes is not personal data.
    assert classify_column("phone", "text", sample("product_code")).personal_data_type is None
    # A column called email that holds phone numbers holds phone numbers.
    verdict = classify_column("email", "text", sample("phone"))
    assert (verdict.personal_data_type, verdict.reason) == ("phone", "values")
    # A free-text type's name holding record numbers is a record number.
    assert classify_column("ma_benh_an", "text", sample("invoice_number")).personal_data_type is None


def test_name_and_values_agreeing_is_reason_both_with_high_confidence():
    verdict = classify_column("so_dien_thoai", "text", sample("phone"))
    assert (verdict.personal_data_type, verdict.reason) == ("phone", "both")
    assert verdict.confidence >= 0.95
    by_values = classify_column("c2", "text", sample("phone"))
    assert by_values.confidence < verdict.confidence


def test_a_name_alone_classifies_an_empty_or_binary_column():
    assert classify_column("cccd", "text", []).reason == "name"
    verdict = classify_column("van_tay", "bytea", [])
    assert (verdict.personal_data_type, verdict.reason) == ("biometric", "name")


def test_non_personal_columns_stay_unclassified():
    for kind in ("product_code", "product_name", "amount", "quantity", "barcode", "status", "description", "invoice_number"):
        assert classify_column("c9", "text", sample(kind)).personal_data_type is None, kind


def test_a_handful_of_values_does_not_classify_a_meaningless_column():
    assert classify_column("c1", "text", sample("phone", n=3)).personal_data_type is None


# --- categories and labels -----------------------------------------------------------------------


def test_categories_follow_decree_13_article_2_and_blood_group_is_basic():
    assert category_of("blood_group") == "basic"
    for code in ("health", "religion", "biometric", "genetic", "ethnicity", "political_view", "sex_life", "criminal_record", "location"):
        assert category_of(code) == "sensitive", code
    for code in ("full_name", "phone", "email", "citizen_id", "passport", "tax_code", "address", "date_of_birth"):
        assert category_of(code) == "basic", code


def test_every_type_and_reason_has_a_label_in_both_languages():
    for code in PERSONAL_DATA_TYPES:
        label = personal_data_type_label(code)
        assert label.en and label.vi and label.en != label.vi, code
    assert reason_label("values").vi == "Theo giá trị mẫu"
    assert {reason_label(r).en for r in ("name", "values", "both")} == {
        "By its column name",
        "By its sampled values",
        "By its column name and its sampled values",
    }
