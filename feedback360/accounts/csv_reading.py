"""Reading a staff list saved as CSV: Excel's usual quirks accepted, anything else refused."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from feedback360.errors import DomainError

MAX_BYTES = 10 * 1024 * 1024  # about 80,000 people: larger than any force's staff list
ALLOWED_SUFFIXES = (".csv", ".txt")
SAVE_AS_CSV = "In Excel choose File › Save As and the type “CSV UTF-8 (Comma delimited)”."

# Each column's key, and the headings people write for it (compared after tidying).
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("name", "full name"),
    "email": ("email", "email address"),
    "staff_type": ("staff type",),
    "business_unit": ("business unit",),
    "line_manager": (
        "line manager email",
        "line managers email",
        "line manager email address",
        "line manager",
        "manager email",
    ),
    "roles": ("roles", "role"),
    "coach": ("coach email", "coachs email", "coach email address", "coach"),
    "leaver": ("leaver",),
}
REQUIRED_COLUMNS = ("name", "email", "staff_type", "business_unit", "line_manager", "roles")
HEADINGS = {
    "name": "name",
    "email": "email",
    "staff_type": "staff type",
    "business_unit": "business unit",
    "line_manager": "line manager's email",
    "roles": "roles",
    "coach": "coach's email",
    "leaver": "leaver",
}
_KEY_BY_HEADING = {heading: key for key, headings in COLUMNS.items() for heading in headings}


class ImportRefused(DomainError):
    """The file was refused as a whole; `problems` says why, line by line."""

    def __init__(self, problems: list[str]) -> None:
        count = len(problems)
        summary = f"Nothing was imported: {count} problem{'' if count == 1 else 's'} found."
        super().__init__("\n".join([summary, *problems]))
        self.summary = summary
        self.problems = problems


@dataclass(frozen=True)
class Record:
    """One row of people, with its line number as a spreadsheet shows it (header = 1)."""

    line: int
    cells: dict[str, str]


@dataclass
class Table:
    columns: set[str]
    records: list[Record]
    ignored_headings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_table(data: bytes, filename: str | None = None) -> Table:
    """The file's rows keyed by column; refuses what is not a CSV staff list."""
    text = _decode(data, filename)
    lines = list(_rows(text))
    if not lines or not any(cell.strip() for cell in lines[0]):
        raise ImportRefused(["Line 1: the first line must hold the column headings."])
    keys, table = _read_header(lines[0])
    for number, cells in enumerate(lines[1:], start=2):
        cells = [cell.strip() for cell in cells]
        if not any(cells):
            continue  # Excel leaves empty rows at the end, and people leave gaps
        extra = [n for n, cell in enumerate(cells) if cell and (n >= len(keys) or keys[n] == "")]
        if extra:
            table.problems.append(
                f"Line {number}: column {_letter(extra[0])} has a value but no heading."
            )
            continue
        cells += [""] * (len(keys) - len(cells))
        table.records.append(Record(number, {k: c for k, c in zip(keys, cells, strict=False) if k}))
    if not table.records and not table.problems:
        raise ImportRefused(["The file has headings but no people."])
    return table


def _decode(data: bytes, filename: str | None) -> str:
    if filename and not filename.lower().endswith(ALLOWED_SUFFIXES):
        raise ImportRefused([f"“{filename}” is not a CSV file. {SAVE_AS_CSV}"])
    if len(data) > MAX_BYTES:
        raise ImportRefused(
            [
                f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it or remove "
                "columns feedback360 does not use."
            ]
        )
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise ImportRefused([f"This is an Excel workbook, not a CSV file. {SAVE_AS_CSV}"])
    if b"\x00" in data:
        raise ImportRefused([f"This is not a CSV text file. {SAVE_AS_CSV}"])
    try:
        return data.decode("utf-8-sig")  # with or without Excel's byte order mark
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ImportRefused(
            [
                f"Line {line}: the file is not in UTF-8, so accented letters would be lost. "
                f"{SAVE_AS_CSV}"
            ]
        ) from error


def _rows(text: str) -> list[list[str]]:
    first_line = text.split("\n", 1)[0]
    # Excel writes semicolons where the decimal separator is a comma.
    delimiter = max([",", ";", "\t"], key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return list(reader)
    except csv.Error as error:
        raise ImportRefused(
            [f"Line {reader.line_num}: this line cannot be read: {error}."]
        ) from error


def _read_header(headings: list[str]) -> tuple[list[str | None], Table]:
    """Each cell's column key ("" for a blank heading, None to ignore), and the table to fill."""
    keys: list[str | None] = []
    table = Table(columns=set(), records=[])
    for heading in headings:
        key = _KEY_BY_HEADING.get(_tidy(heading))
        if not _tidy(heading):
            keys.append("")
        elif key is None:
            table.ignored_headings.append(heading.strip())
            keys.append(None)
        elif key in table.columns:
            table.problems.append(f"Line 1: two columns are headed “{HEADINGS[key]}”.")
            keys.append(None)
        else:
            table.columns.add(key)
            keys.append(key)
    missing = [f"“{HEADINGS[key]}”" for key in REQUIRED_COLUMNS if key not in table.columns]
    if missing:
        expected = ", ".join(HEADINGS.values())
        raise ImportRefused(
            [
                f"Line 1: missing column {'heading' if len(missing) == 1 else 'headings'}: "
                f"{', '.join(missing)}. The first line must "
                f"name the columns {expected} (the last two may be left out)."
            ]
        )
    return keys, table


def _tidy(heading: str) -> str:
    heading = re.sub(r"['’]", "", heading.strip().lower())
    return re.sub(r"[\s_\-]+", " ", heading).strip(" :")


def _letter(index: int) -> str:
    """A spreadsheet's column letter: 0 → A, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters
