"""The one reader of configuration from environment variables, typed, for settings and gunicorn alike.

`verisyntra/settings.py`, `verisyntra/db/config.py` and `gunicorn.conf.py` read every variable
through these functions, so each type is parsed one way everywhere: an unset or blank variable
means the default, and anything that is not one of the accepted forms stops the start with an
error naming the variable and those forms, rather than being guessed at.

Standard library only, without Django: gunicorn loads `gunicorn.conf.py`, which imports this
module, in its master process before any Django setup.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


class EnvironmentVariableError(ValueError):
    """A configuration variable is set to something its type does not accept."""


def _raw(name: str, environ: Mapping[str, str] | None) -> str:
    return (os.environ if environ is None else environ).get(name, "").strip()


def env_str(name: str, default: str = "", *, environ: Mapping[str, str] | None = None) -> str:
    """The variable's text without surrounding spaces; `default` when unset or blank."""
    return _raw(name, environ) or default


def env_int(name: str, default: int, *, environ: Mapping[str, str] | None = None) -> int:
    """A whole number such as `20` or `-1`; `default` when unset or blank."""
    raw = _raw(name, environ)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise EnvironmentVariableError(f"{name} must be an integer (such as 20), got {raw!r}") from None


def env_float(name: str, default: float, *, environ: Mapping[str, str] | None = None) -> float:
    """A number, fractions allowed (`1.5`); `default` when unset or blank."""
    raw = _raw(name, environ)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise EnvironmentVariableError(f"{name} must be a number (such as 5 or 0.5), got {raw!r}") from None


def env_bool(name: str, default: bool = False, *, environ: Mapping[str, str] | None = None) -> bool:
    """On for 1/true/yes/on, off for 0/false/no/off (any letter case); `default` when unset or blank."""
    raw = _raw(name, environ).lower()
    if not raw:
        return default
    if raw in TRUE_WORDS:
        return True
    if raw in FALSE_WORDS:
        return False
    raise EnvironmentVariableError(f"{name} must be one of 1, true, yes, on or 0, false, no, off; got {raw!r}")


def env_list(name: str, default: str = "", *, environ: Mapping[str, str] | None = None) -> list[str]:
    """Comma-separated items, each stripped, empty ones dropped; `default` (same form) when unset or blank."""
    raw = _raw(name, environ) or default
    return [item.strip() for item in raw.split(",") if item.strip()]
