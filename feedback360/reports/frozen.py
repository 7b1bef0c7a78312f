"""A report's document frozen as data: what the close decided the report shows, kept in the
database so that rendering needs no analysis and gives the same report whenever it runs.

The document is plain dataclasses (engine.results), written as compressed JSON and read
back by its type hints: no pickle, so a copy of the database can never run code here.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
import zlib
from collections.abc import Callable
from datetime import date
from functools import cache
from typing import Any

import numpy as np

from feedback360.reports.engine.results import ReportDocument

FORMAT = b"\x01"  # the first byte: zlib-compressed JSON, each dataclass a list of its fields


def freeze_document(document: ReportDocument) -> bytes:
    text = json.dumps(_plain(document), separators=(",", ":"), ensure_ascii=False)
    return FORMAT + zlib.compress(text.encode(), 6)


def thaw_document(frozen: bytes) -> ReportDocument:
    if not frozen.startswith(FORMAT):
        raise ValueError("Not a frozen report document.")
    document = _reader(ReportDocument)(json.loads(zlib.decompress(frozen[1:])))
    return typing.cast(ReportDocument, document)


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _plain(value: Any) -> Any:
    """The value as JSON's types: a dataclass as the list of its fields' values, in order
    (a report holds thousands of small ones: no key repeated in each), dates as ISO text."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    names = _field_names(kind)
    if names is not None:
        return [_plain(getattr(value, name)) for name in names]
    if kind is dict:
        return {str(key): _plain(item) for key, item in value.items()}
    if kind is list or kind is tuple:
        return [_plain(item) for item in value]
    if kind is date:
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"A report document cannot hold a {kind.__name__}.")


@cache
def _reader(kind: Any) -> Callable[[Any], Any]:
    """A function reading a value of type kind back from JSON, made once per type: a report
    holds thousands of values, and working out each one's type every time costs more than
    the reading."""
    origin, arguments = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        (inner,) = [argument for argument in arguments if argument is not type(None)]
        read_inner = _reader(inner)
        return lambda value: None if value is None else read_inner(value)
    if origin is list:
        item = _reader(arguments[0])
        return lambda value: [item(part) for part in value]
    if origin is tuple:  # tuple[int, ...]: the only kind the results use
        item = _reader(arguments[0])
        return lambda value: tuple(item(part) for part in value)
    if origin is dict:
        item = _reader(arguments[1])
        return lambda value: {key: item(part) for key, part in value.items()}
    if dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        fields = [_reader(hints[f.name]) for f in dataclasses.fields(kind)]
        return lambda value: kind(*[read(part) for read, part in zip(fields, value, strict=True)])
    if kind is date:
        return date.fromisoformat
    if kind is float:
        return lambda value: None if value is None else float(value)
    return lambda value: value


@cache
def _field_names(kind: type) -> tuple[str, ...] | None:
    if not dataclasses.is_dataclass(kind):
        return None
    return tuple(f.name for f in dataclasses.fields(kind))
