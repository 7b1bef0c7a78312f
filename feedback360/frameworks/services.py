"""Read a framework file, refuse a broken one with the reason, and load it as a new version."""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any

from sqlalchemy import func

from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.frameworks.models import Framework, Statement, Value

BUNDLED_DIR = Path(__file__).parent / "data"
TOP_KEYS = {"key", "name", "preamble", "scale", "values"}
VALUE_KEYS = {"title", "summary", "we_will", "we_will_not", "serious"}


class FrameworkFileError(DomainError):
    """The framework file cannot be loaded; the message says where and why."""


def bundled_framework(key: str) -> Path:
    return BUNDLED_DIR / f"{key}.toml"


def read_framework_file(path: Path) -> dict[str, Any]:
    """Parse and check a framework file; raise FrameworkFileError naming the problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise FrameworkFileError(f"{path}: no such file") from error
    except UnicodeDecodeError as error:
        raise FrameworkFileError(f"{path}: not UTF-8 text") from error
    except tomllib.TOMLDecodeError as error:
        raise FrameworkFileError(f"{path}: not valid TOML: {error}") from error
    check_framework_data(data, where=str(path))
    return data


def check_framework_data(data: dict[str, Any], where: str) -> None:
    _no_unknown_keys(data, TOP_KEYS, where)
    for key in ("key", "name"):
        _text(data.get(key), f"{where}: '{key}'")
    if not isinstance(data.get("preamble", ""), str):
        raise FrameworkFileError(f"{where}: 'preamble' must be text")
    scale = data.get("scale")
    if not isinstance(scale, list) or not 2 <= len(scale) <= 9:
        raise FrameworkFileError(f"{where}: 'scale' must list between 2 and 9 point labels")
    for number, label in enumerate(scale, start=1):
        _text(label, f"{where}: scale point {number}")
    values = data.get("values")
    if not isinstance(values, list) or not values:
        raise FrameworkFileError(f"{where}: no [[values]] given")
    seen: set[str] = set()
    for number, value in enumerate(values, start=1):
        place = f"{where}: value {number}"
        if not isinstance(value, dict):
            raise FrameworkFileError(f"{place} must be a table")
        _no_unknown_keys(value, VALUE_KEYS, place)
        _text(value.get("title"), f"{place} 'title'")
        _text(value.get("summary"), f"{place} 'summary'")
        we_will = _statements(value.get("we_will"), f"{place} 'we_will'", required=True)
        we_will_not = _statements(value.get("we_will_not", []), f"{place} 'we_will_not'")
        for text in we_will + we_will_not:
            if text in seen:
                raise FrameworkFileError(f"{place}: statement given twice: “{text}”")
            seen.add(text)
        _serious(value.get("serious", []), we_will_not, f"{place} 'serious'")


def _no_unknown_keys(table: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        keys = "key" if len(unknown) == 1 else "keys"
        raise FrameworkFileError(f"{where}: unknown {keys}: {', '.join(unknown)}")


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FrameworkFileError(f"{what} is missing or empty")
    return value


def _statements(value: Any, what: str, *, required: bool = False) -> list[str]:
    if not isinstance(value, list) or (required and not value):
        raise FrameworkFileError(
            f"{what} must list at least one statement"
            if required
            else f"{what} must be a list of statements"
        )
    return [_text(text, f"{what} item {number}") for number, text in enumerate(value, start=1)]


def _serious(value: Any, we_will_not: list[str], what: str) -> None:
    """Serious statements are named word for word from the value's own "We will not" list."""
    for number, text in enumerate(_statements(value, what), start=1):
        if text not in we_will_not:
            raise FrameworkFileError(
                f"{what} item {number} is not one of this value's 'we_will_not' statements:"
                f" “{text}”"
            )


def load_framework(data: dict[str, Any]) -> tuple[Framework, bool]:
    """Store checked framework data as a new version; an unchanged file reuses its version."""
    source_hash = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    existing = db.session.execute(
        db.select(Framework).filter_by(key=data["key"], source_hash=source_hash)
    ).scalar_one_or_none()
    if existing is not None:
        return existing, False
    latest = db.session.execute(
        db.select(func.max(Framework.version)).filter_by(key=data["key"])
    ).scalar()
    framework = Framework(
        key=data["key"],
        version=(latest or 0) + 1,
        name=data["name"],
        preamble=data.get("preamble", ""),
        scale=list(data["scale"]),
        source_hash=source_hash,
    )
    for position, value in enumerate(data["values"]):
        statements = [(text, True) for text in value["we_will"]]
        statements += [(text, False) for text in value.get("we_will_not", [])]
        serious = set(value.get("serious", []))
        framework.values.append(
            Value(
                position=position,
                title=value["title"],
                summary=value["summary"],
                statements=[
                    Statement(
                        position=number,
                        text=text,
                        positive=positive,
                        serious=not positive and text in serious,
                    )
                    for number, (text, positive) in enumerate(statements)
                ],
            )
        )
    db.session.add(framework)
    db.session.flush()
    return framework, True


def latest_framework(key: str) -> Framework | None:
    return db.session.execute(
        db.select(Framework).filter_by(key=key).order_by(Framework.version.desc()).limit(1)
    ).scalar_one_or_none()
