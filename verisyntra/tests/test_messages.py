"""The message catalogue: every entry renders in both languages, nothing is worded twice, no Vietnamese lives elsewhere."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest

from verisyntra.messages import CATALOGUE, format_number, render, render_in

ROOT = Path(__file__).resolve().parents[2]

# Vietnamese letters: vowels with Vietnamese tone marks and the letter đ. Plain ASCII Vietnamese
# ("tin", "cho") cannot be told from English, so a translation must contain one of these.
VIETNAMESE = re.compile(
    "[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
    "ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴĐ]"
)

# Entries whose Vietnamese has no Vietnamese letter on purpose: codes, units and layouts.
VIETNAMESE_WITHOUT_DIACRITICS_ALLOWED: set[str] = set()


def fields(template: str) -> set[str]:
    """The parameter names a template uses (`{n:num}` -> "n")."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def sample_params(code: str) -> dict[str, int]:
    entry = CATALOGUE[code]
    # 1234 shows thousands separators in both languages; every spec in use accepts an int.
    return dict.fromkeys(fields(entry.en) | fields(entry.vi), 1234)


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_entry_renders_in_both_languages_with_the_same_parameters(code):
    entry = CATALOGUE[code]
    assert fields(entry.en) == fields(entry.vi), f"{code}: English and Vietnamese take different parameters"
    text = render(code, **sample_params(code))
    assert text.en.strip() and text.vi.strip(), f"{code}: an empty translation"
    assert "{" not in text.en and "{" not in text.vi, f"{code}: a placeholder left unfilled"
    if code not in VIETNAMESE_WITHOUT_DIACRITICS_ALLOWED:
        assert VIETNAMESE.search(text.vi), f"{code}: the Vietnamese has no Vietnamese letter: {text.vi!r}"
        assert not VIETNAMESE.search(text.en), f"{code}: Vietnamese in the English: {text.en!r}"


def test_no_sentence_is_worded_twice():
    by_english: dict[str, list[str]] = {}
    for code, entry in CATALOGUE.items():
        by_english.setdefault(entry.en.casefold(), []).append(code)
    twice = {english: codes for english, codes in by_english.items() if len(codes) > 1}
    assert not twice, f"the same English under several codes (use one code): {twice}"


def test_vietnamese_numbers_use_a_dot_for_thousands_and_a_comma_for_decimals():
    assert format_number(10_000, "vi") == "10.000" and format_number(10_000, "en") == "10,000"
    assert format_number(0.063, "vi", decimals=3) == "0,063" and format_number(0.063, "en", decimals=3) == "0.063"
    assert render_in("vi", "scan.count_mismatch", written=10_000, total=10_001) == (
        "Lần quét đã ghi 10.000 hoạt động xử lý dữ liệu cá nhân cho 10.001 bản ghi."
    )
    assert render_in("vi", "finding.replica_lagging", where="r", lag=0.063, limit=5).startswith("Bản sao chỉ đọc r chậm 0,1 giây")


def test_english_counts_say_one_record_and_two_records():
    assert render_in("en", "scan.count_mismatch", written=1, total=1) == "The scan wrote 1 processing activity for 1 record."
    assert render_in("en", "scan.count_mismatch", written=2, total=2) == "The scan wrote 2 processing activities for 2 records."
    assert render_in("en", "invalid_activities", records_failed=1) == "1 activity is invalid; nothing was written."
    assert render_in("en", "invalid_activities", records_failed=10_000) == "10,000 activities are invalid; nothing was written."


def test_nginx_answers_in_the_services_error_shape_worded_by_the_catalogue(tmp_path):
    from deploy import nginx_conf

    conf = nginx_conf.render(tmp_path, "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3", max_body="1m").read_text(encoding="utf-8")
    bodies = {}
    for status, quoted in re.findall(r"return (\d{3}) '((?:[^'\\]|\\.)*)';", conf):
        bodies[status] = json.loads(re.sub(r"\\(.)", r"\1", quoted))
    assert set(bodies) == {"413", "429", "503"}
    throttled = render("throttled")
    assert bodies["429"] == {"error": throttled.en, "error_vi": throttled.vi, "code": "throttled"}
    too_large = render("request_too_large", max_bytes=1_048_576, max_mb="1")
    assert bodies["413"] == {"error": too_large.en, "error_vi": too_large.vi, "code": "request_too_large", "max_bytes": 1_048_576}
    unavailable = render("service_unavailable")
    assert bodies["503"] == {"error": unavailable.en, "error_vi": unavailable.vi, "code": "service_unavailable"}


# What the Vietnamese-letter scan reads: code, deploy templates and scripts (docs and data files are not code).
SCANNED_SUFFIXES = {".py", ".html", ".template", ".conf", ".sh", ".yml", ".yaml", ".toml", ".cfg", ".ini", ".txt"}
SCANNED_DIRECTORIES_WHOLE = {"deploy", "scripts"}
SKIPPED_DIRECTORIES = {".git", ".venv", "venv", "node_modules", "__pycache__", "var", "docs", "stubs", ".mypy_cache", ".ruff_cache"}


def is_test_or_migration(relative: Path) -> bool:
    parts = relative.parts
    return (
        "tests" in parts
        or "migrations" in parts
        or relative.name.startswith("test_")
        or relative.name == "conftest.py"
        or relative.parts[:2] == ("verisyntra", "messages")
    )


def scanned_files() -> list[Path]:
    files = []
    for path in ROOT.rglob("*"):
        relative = path.relative_to(ROOT)
        if not path.is_file() or SKIPPED_DIRECTORIES & set(relative.parts[:-1]) or is_test_or_migration(relative):
            continue
        if path.suffix in SCANNED_SUFFIXES or relative.parts[0] in SCANNED_DIRECTORIES_WHOLE:
            files.append(path)
    return files


def vietnamese_lines(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return []
    return [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}" for number, line in enumerate(text.splitlines(), 1) if VIETNAMESE.search(line)
    ]


def test_the_scan_sees_the_code_it_must_check():
    # A scan that silently read nothing would pass forever.
    scanned = {path.relative_to(ROOT).as_posix() for path in scanned_files()}
    assert {"inventory/validation.py", "health/report.py", "deploy/nginx.conf.template", "manage.py"} <= scanned
    assert not any(name.startswith("verisyntra/messages/") for name in scanned)
    assert vietnamese_lines(ROOT / "verisyntra" / "messages" / "inventory.py"), "the scan's pattern finds no Vietnamese at all"


def test_no_vietnamese_outside_the_catalogue():
    found = [line for path in scanned_files() for line in vietnamese_lines(path)]
    assert not found, "Vietnamese outside verisyntra/messages/ (move it into the catalogue):\n" + "\n".join(found)
