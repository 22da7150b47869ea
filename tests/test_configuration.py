"""docker-compose.yml, the settings table of docs/configuration.md and the settings agree on every variable."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from verisyntra.db.config import POOL_DEFAULTS, build_databases
from verisyntra.env import EnvironmentVariableError

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "web-write", "worker", "beat")


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def readme_variables() -> set[str]:
    """The variables of the settings table in docs/configuration.md (the README links there)."""
    text = (ROOT / "docs" / "configuration.md").read_text()
    section = text.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z_]+)` \|", section, flags=re.MULTILINE))


# env_int("X", ...), env_bool("X"), env_str("X", ...) and the like (verisyntra.env), or os.environ.get("X").
ENV_LOOKUP = r"""(?:environ(?:\.get)?\(|env_\w+\()["']([A-Z][A-Z0-9_]+)["']"""
CONFIGURATION_MODULES = (
    "verisyntra/settings.py",
    "verisyntra/db/config.py",
    "verisyntra/db/pooler.py",
    "gunicorn.conf.py",
    "health/metrics.py",
)
# Reading a variable's value straight from the process environment, bypassing verisyntra.env.
RAW_ENVIRONMENT_READ = re.compile(r"""os\.environ\.get\(|os\.getenv\(|os\.environ\[["'][A-Z0-9_]+["']\](?!\s*=[^=])""")


def variables_read_by_code() -> set[str]:
    """Names the code reads from the environment, including the READ_/WRITE_POOL_* family."""
    names: set[str] = set()
    for path in [ROOT / name for name in CONFIGURATION_MODULES]:
        source = path.read_text()
        names |= set(re.findall(ENV_LOOKUP, source))
    for alias in POOL_DEFAULTS:
        for suffix in ("SIZE", "MAX_OVERFLOW", "TIMEOUT", "RECYCLE", "STATEMENT_TIMEOUT_MS"):
            names.add(f"{alias.upper()}_POOL_{suffix}" if suffix != "STATEMENT_TIMEOUT_MS" else f"{alias.upper()}_{suffix}")
    return names | {"PORT"}  # PORT is read by scripts/dev


def test_compose_has_the_services_with_health_checks():
    services = compose()["services"]
    assert {"postgres", "redis", "proxy", *APP_SERVICES} <= set(services)
    one_shot = {
        name
        for service in services.values()
        for name, condition in (service.get("depends_on") or {}).items()
        if condition.get("condition") == "service_completed_successfully"
    }
    for name, service in services.items():
        if name in one_shot:  # runs to completion before its dependants start: nothing to probe
            assert service.get("restart") == "no", f"{name} is a one-shot step but would be restarted"
            continue
        assert "healthcheck" in service, f"{name} has no health check"
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")


def test_compose_variables_are_the_ones_the_settings_read():
    services = compose()["services"]
    documented = readme_variables()
    for name in APP_SERVICES:
        variables = set(services[name]["environment"])
        assert variables, f"{name} sets no variables"
        assert variables <= documented, f"{name} sets undocumented variables: {variables - documented}"


def test_every_documented_variable_is_read_by_the_code():
    documented = readme_variables()
    assert documented - variables_read_by_code() == set()


def compose_command() -> list[str]:
    """A real Compose implementation: Debian's docker-compose, or the Docker Compose plugin."""
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    pytest.fail("no Compose implementation: apt-get install docker-compose (scripts/test installs it: ensure_docker_compose)")


def resolved_compose() -> dict:
    """docker-compose.yml as a real Compose implementation reads it (anchors merged, values checked)."""
    # With the example's values, as `cp .env.example .env` gives: the file itself names no secret.
    command = [*compose_command(), "--env-file", str(ROOT / ".env.example")]
    checked = subprocess.run([*command, "config", "-q"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, f"{' '.join(command)} config refuses docker-compose.yml:\n{checked.stderr}"
    resolved = subprocess.run([*command, "config"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    return yaml.safe_load(resolved.stdout)


# The processes whose metrics /metrics must merge: both web groups (the proxy sends /metrics to one) and the scans' worker.
METRICS_SERVICES = ("web", "web-write", "worker")


def test_compose_parses_with_a_real_compose_implementation_and_shares_one_metrics_volume():
    resolved = resolved_compose()
    directories = {resolved["services"][name]["environment"].get("PROMETHEUS_MULTIPROC_DIR") for name in METRICS_SERVICES}
    assert len(directories) == 1 and None not in directories, f"not one shared PROMETHEUS_MULTIPROC_DIR: {directories}"
    [directory] = directories
    for name in METRICS_SERVICES:
        mounts = [str(volume).split(":")[:2] for volume in resolved["services"][name].get("volumes", [])]
        assert ["metrics", directory] in mounts, f"{name} does not mount the metrics volume at {directory}: {mounts}"
    # tmpfs: emptied once no container uses it, as prometheus-client's multiprocess mode requires between runs.
    assert resolved["volumes"]["metrics"]["driver_opts"]["type"] == "tmpfs"


def test_compose_hard_codes_no_secret_and_runs_as_the_two_roles(tmp_path):
    command = compose_command()
    # Without .env (here an empty one), Compose refuses rather than start with a guessable key or password.
    empty = tmp_path / ".env"
    empty.write_text("")
    bare = subprocess.run([*command, "--env-file", str(empty), "config", "-q"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert bare.returncode != 0 and "set it in .env" in bare.stderr
    environment = resolved_compose()["services"]["web"]["environment"]
    secrets = dict(line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines() if line and not line.startswith("#"))
    assert environment["SECRET_KEY"] == secrets["SECRET_KEY"]
    assert environment["DATABASE_URL"].startswith(f"postgresql://verisyntra_app:{secrets['VERISYNTRA_APP_PASSWORD']}@")
    assert environment["MIGRATION_DATABASE_URL"].startswith(f"postgresql://verisyntra_owner:{secrets['VERISYNTRA_OWNER_PASSWORD']}@")
    roles = (ROOT / "deploy" / "postgres-init" / "10-roles.sh").read_text()
    assert (
        "CREATE ROLE verisyntra_app LOGIN NOSUPERUSER NOBYPASSRLS" in roles and "CREATE DATABASE verisyntra OWNER verisyntra_owner" in roles
    )


def test_compose_pool_variables_produce_the_designs_pools():
    environment = {k: str(v) for k, v in resolved_compose()["services"]["web"]["environment"].items()}
    databases = build_databases(environment)
    assert databases["read"]["POOL_OPTIONS"]["POOL_SIZE"] == 20
    assert databases["write"]["POOL_OPTIONS"]["POOL_SIZE"] == 50
    assert databases["write"]["HOST"] == "postgres"


def test_pool_variables_override_each_default():
    environment = {
        "READ_POOL_SIZE": "3",
        "READ_POOL_MAX_OVERFLOW": "4",
        "READ_POOL_TIMEOUT": "5",
        "READ_POOL_RECYCLE": "6",
        "WRITE_POOL_SIZE": "7",
        "WRITE_POOL_MAX_OVERFLOW": "8",
        "WRITE_POOL_TIMEOUT": "9",
        "WRITE_POOL_RECYCLE": "10",
    }
    databases = build_databases(environment)
    assert databases["read"]["POOL_OPTIONS"] == {"POOL_SIZE": 3, "MAX_OVERFLOW": 4, "TIMEOUT": 5, "RECYCLE": 6, "PRE_PING": True}
    assert databases["write"]["POOL_OPTIONS"] == {"POOL_SIZE": 7, "MAX_OVERFLOW": 8, "TIMEOUT": 9, "RECYCLE": 10, "PRE_PING": True}


def test_design_defaults_and_application_names():
    databases = build_databases({})
    assert databases["read"]["POOL_OPTIONS"] == {"POOL_SIZE": 20, "MAX_OVERFLOW": 10, "TIMEOUT": 30, "RECYCLE": 3600, "PRE_PING": True}
    assert databases["write"]["POOL_OPTIONS"] == {"POOL_SIZE": 50, "MAX_OVERFLOW": 20, "TIMEOUT": 10, "RECYCLE": 1800, "PRE_PING": True}
    assert databases["read"]["OPTIONS"]["application_name"] == "verisyntra-read"
    assert databases["write"]["OPTIONS"]["application_name"] == "verisyntra-write"
    assert databases["read"]["CONN_MAX_AGE"] == databases["write"]["CONN_MAX_AGE"] == 0
    assert databases["default"]["ENGINE"] == "django.db.backends.dummy"
    assert databases["read"]["ENGINE"] == databases["write"]["ENGINE"] == "dj_db_conn_pool.backends.postgresql"


def test_read_database_url_points_the_read_alias_elsewhere():
    databases = build_databases({"DATABASE_URL": "postgresql://u@primary:5432/db", "READ_DATABASE_URL": "postgresql://u@replica:5433/db"})
    assert (databases["write"]["HOST"], databases["write"]["PORT"]) == ("primary", 5432)
    assert (databases["read"]["HOST"], databases["read"]["PORT"]) == ("replica", 5433)


def test_the_service_reads_environment_variables_only_through_verisyntra_env():
    """One reader, so every variable of a type accepts the same forms (tests, scripts and benchmarks aside)."""
    offenders = []
    for path in sorted(ROOT.glob("**/*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith((".venv/", "tests/", "scripts/", "benchmarks/", "stubs/", "var/")) or "/tests/" in relative:
            continue
        if relative in {"verisyntra/env.py", "conftest.py"}:
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if RAW_ENVIRONMENT_READ.search(line):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == []


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("1", True), ("on", True), ("false", False), ("0", False), ("", False)])
def test_flags_accept_the_documented_words(raw, expected):
    assert build_databases({"DISABLE_SERVER_SIDE_CURSORS": raw})["write"]["DISABLE_SERVER_SIDE_CURSORS"] is expected


def test_a_malformed_setting_stops_the_start_naming_the_variable():
    with pytest.raises(EnvironmentVariableError, match="WRITE_POOL_SIZE must be an integer"):
        build_databases({"WRITE_POOL_SIZE": "fifty"})
    with pytest.raises(EnvironmentVariableError, match="DISABLE_SERVER_SIDE_CURSORS must be one of"):
        build_databases({"DISABLE_SERVER_SIDE_CURSORS": "sometimes"})
