"""Importing people from a CSV staff list: all rows or none, re-imports, leavers."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from feedback360.accounts.csv_reading import MAX_BYTES
from feedback360.accounts.import_job_run import run_import_job
from feedback360.accounts.models import Person
from feedback360.accounts.services import person_by_email
from feedback360.audit.models import AuditEntry
from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest
from feedback360.feedback.services import start_request
from feedback360.sqlite import whole_transactions
from tests.conftest import (
    PASSWORD,
    csrf_token,
    outbox_messages,
    page_text,
    sign_in,
    submit_form,
)

HEADER = "name,email,staff type,business unit,line manager's email,roles,coach's email\n"
# Ten people; Alex's and Chris's managers come later in the file than they do.
STAFF = HEADER + (
    "Alex Morgan,alex@example.org,Police officer,Westminster,chris@example.org,,cora@example.org\n"
    "Bea Khan,bea@example.org,Police staff,Westminster,chris@example.org,,\n"
    "Chris Doyle,chris@example.org,Police officer,Westminster,dana@example.org,,cora@example.org\n"
    "Dana Reid,dana@example.org,Police officer,Westminster,,admin,\n"
    "Cora Lane,cora@example.org,Police staff,Leadership Academy,dana@example.org,coach,\n"
    "Eli Ford,eli@example.org,Police staff,Camden,fay@example.org,,\n"
    'Fay Green,fay@example.org,Police officer,Camden,dana@example.org,"coach;admin",\n'
    "Gus Hale,gus@example.org,Police officer,Camden,fay@example.org,,fay@example.org\n"
    "Hana Ito,hana@example.org,Police staff,Camden,fay@example.org,,\n"
    "Ivo Jax,ivo@example.org,Police officer,Camden,fay@example.org,,\n"
)
IMPORT_PAGE = "/admin/people/import"


def upload(client, content: str | bytes, *, filename: str = "staff.csv", full_list: bool = False):  # type: ignore[no-untyped-def]
    """Post a file on the import page as a browser does; the job it queues is then run here,
    as the process the page starts in production would run it."""
    client.application.config["PEOPLE_IMPORT_WORKER"] = "none"
    response = post_file(client, content, filename=filename, full_list=full_list)
    if (job_id := job_of(response)) is not None:
        run_job(client.application, job_id)
    return response


def post_file(
    client, content: str | bytes, *, filename: str = "staff.csv", full_list: bool = False
):  # type: ignore[no-untyped-def]
    """Post a file on the import page as a browser does, and nothing more."""
    data = content.encode() if isinstance(content, str) else content
    fields: dict = {
        "csrf_token": csrf_token(client.get(IMPORT_PAGE).text),
        "file": FileStorage(io.BytesIO(data), filename),
    }
    if full_list:
        fields["full_list"] = "y"
    # Encoded here: the test client would spool a large body to a file it never closes.
    boundary, body = encode_multipart(fields)
    return client.post(
        IMPORT_PAGE, data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def job_of(response) -> int | None:  # type: ignore[no-untyped-def]
    """The import job an upload led to, if it led to one."""
    match = re.fullmatch(r"/admin/people/import/(\d+)", response.location or "")
    return int(match.group(1)) if match else None


def run_job(app: Flask, job_id: int) -> None:
    """Run a queued import job to its end, in an app context of its own as its process has."""
    with app.app_context(), whole_transactions():
        run_import_job(job_id)


def imported(client, content: str | bytes, **options: bool) -> str:  # type: ignore[no-untyped-def]
    """Upload a file that must be accepted; the text of the page it leads to."""
    response = upload(client, content, **options)
    assert response.status_code == 302, page_text(response.text)
    return page_text(client.get(response.location).text)


def refused(client, content: str | bytes, **options: bool) -> str:  # type: ignore[no-untyped-def]
    """Upload a file whose rows are refused: the text of the job's page, which says why."""
    response = upload(client, content, **options)
    assert job_of(response) is not None, page_text(response.text)
    text = page_text(client.get(response.location).text)
    assert "Nothing was imported" in text, text
    return text


def people_count() -> int:
    return len(db.session.scalars(db.select(Person)).all())


def person(email: str) -> Person:
    db.session.expire_all()  # see what the requests committed
    found = person_by_email(email)
    assert found is not None, email
    return found


def test_an_administrator_imports_a_staff_list(app, admin):
    text = imported(admin, STAFF)

    assert "Import complete: 10 added, 0 updated, 0 unchanged, 0 reactivated, 0 deactivated" in text
    assert people_count() == 11
    alex = person("alex@example.org")
    assert (alex.name, alex.staff_type, alex.business_unit) == (
        "Alex Morgan",
        "Police officer",
        "Westminster",
    )
    assert alex.line_manager.email == "chris@example.org"
    assert alex.coach.email == "cora@example.org"
    assert person("chris@example.org").line_manager.email == "dana@example.org"
    assert person("dana@example.org").line_manager is None
    fay = person("fay@example.org")
    assert (fay.is_admin, fay.is_coach) == (True, True)
    assert (alex.is_admin, alex.is_coach) == (False, False)
    assert alex.password_hash is None  # they choose it from their email
    welcomed = sorted(message["To"] for message in outbox_messages(app))
    assert len(welcomed) == 10
    assert "alex@example.org" in welcomed
    entry = db.session.scalars(db.select(AuditEntry).filter_by(action="people.import")).one()
    assert entry.actor.email == "ada@example.org"
    assert "10 added" in entry.detail


GOOD_TWO = HEADER + (
    "Alex Morgan,alex@example.org,Police officer,Westminster,,,\n"
    "Cora Lane,cora@example.org,Police staff,Academy,,coach,\n"
)


@pytest.mark.parametrize(
    ("bad_row", "problem"),
    [
        (",zed@example.org,Police staff,Camden,,,", "Line 4: the name is missing."),
        ("Zed Ray,,Police staff,Camden,,,", "Line 4: the email address is missing."),
        ("Zed Ray,zed@example.org,,Camden,,,", "Line 4: the staff type is missing."),
        (
            "Zed Ray,not-an-email,Police staff,Camden,,,",
            "Line 4: the email address “not-an-email” is not a valid email address.",
        ),
        (
            "Zed Ray,zed@example.org,Police staff,Camden,nobody@example.org,,",
            "Line 4: line manager nobody@example.org is neither in this file nor already in "
            "feedback360.",
        ),
        (
            "Zed Ray,zed@example.org,Police staff,Camden,,,nobody@example.org",
            "Line 4: coach nobody@example.org is neither in this file nor already in feedback360.",
        ),
        (
            "Zed Ray,zed@example.org,Police staff,Camden,,,alex@example.org",
            "Line 4: coach alex@example.org is not a coach: add “coach” to roles on line 2.",
        ),
        (
            "Zed Ray,ALEX@example.org,Police staff,Camden,,,",
            "Line 4: alex@example.org is also on line 2; each person may appear once.",
        ),
        ("Zed Ray,zed@example.org,Police staff,Camden,,manager,", "Line 4: unknown role “manager”"),
        (
            "Zed Ray,zed@example.org,Police staff,Camden,zed@example.org,,",
            "Line 4: a person cannot be their own line manager.",
        ),
    ],
)
def test_a_bad_row_is_reported_by_line_and_nothing_is_imported(admin, bad_row, problem):
    before = people_count()

    text = refused(admin, GOOD_TWO + bad_row + "\n")

    assert "Nothing was imported: 1 problem found." in text
    assert problem in text
    assert people_count() == before


def test_every_bad_row_is_reported_at_once(admin):
    content = HEADER + (
        "Alex Morgan,alex@example.org,Police officer,Westminster,,,\n"
        "Bea Khan,bea@example,Police staff,Westminster,,,\n"
        "\n"
        "Chris Doyle,chris@example.org,Police officer,,,boss,\n"
    )
    text = refused(admin, content)

    assert "Nothing was imported: 3 problems found." in text
    assert "Line 3: the email address “bea@example” is not a valid email address." in text
    # The empty line still counts, as a spreadsheet numbers it.
    assert "Line 5: the business unit is missing." in text
    assert "Line 5: unknown role “boss”" in text
    assert people_count() == 1


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"PK\x03\x04 workbook", "staff.xlsx", "“staff.xlsx” is not a CSV file."),
        (b"PK\x03\x04 workbook", "staff.csv", "This is an Excel workbook, not a CSV file."),
        (b"%PDF-1.7\x00\x01", "staff.csv", "This is not a CSV text file."),
        (
            HEADER.encode() + "Zoë Bell,zoe@example.org,Police staff,Camden,,,\n".encode("cp1252"),
            "staff.csv",
            "Line 2: the file is not in UTF-8",
        ),
        (
            b"name,email,staff type,line manager's email,roles\nAl,al@example.org,x,,\n",
            "staff.csv",
            "Line 1: missing column heading: “business unit”.",
        ),
        (HEADER.encode() + b",,,,,,\n", "staff.csv", "The file has headings but no people."),
        (b"", "staff.csv", "Line 1: the first line must hold the column headings."),
    ],
)
def test_a_file_that_is_not_a_staff_list_is_refused_clearly(admin, content, filename, message):
    response = upload(admin, content, filename=filename)

    assert response.status_code == 400
    assert message in page_text(response.text)
    assert people_count() == 1


def test_a_file_too_big_is_refused(admin):
    content = STAFF.encode() + b"," * (MAX_BYTES + 1)

    response = upload(admin, content)

    assert response.status_code == 400
    assert "The file is larger than 10 MB" in page_text(response.text)
    assert people_count() == 1


def test_no_file_chosen_says_so(admin):
    response = submit_form(admin, IMPORT_PAGE, {})

    assert response.status_code == 400
    assert "Choose a CSV file to upload." in page_text(response.text)


def test_excel_quirks_are_accepted(admin):
    # Excel's byte order mark, semicolons, CRLF, stray spaces, headings written its own way
    # and empty rows at the end.
    content = (
        "\ufeffName;Email Address;Staff_Type;Business Unit;Line Manager Email;Roles\r\n"
        "  Zoë  Bell ; ZOE@Example.org ;Police staff; Camden ;;\r\n"
        "Cora Lane;cora@example.org;Police staff;Academy;zoe@example.org; Coach \r\n"
        ";;;;;\r\n"
        ";;;;;\r\n"
    ).encode()

    assert "2 added" in imported(admin, content)
    zoe = person("zoe@example.org")
    assert (zoe.name, zoe.staff_type, zoe.business_unit) == ("Zoë Bell", "Police staff", "Camden")
    assert person("cora@example.org").is_coach


def test_formula_like_text_is_kept_as_text(admin):
    content = HEADER + '=1+1,eq@example.org,"=HYPERLINK(""http://x"")",@SUM(A1),,,\n'

    imported(admin, content)

    stored = person("eq@example.org")
    assert (stored.name, stored.staff_type, stored.business_unit) == (
        "=1+1",
        '=HYPERLINK("http://x")',
        "@SUM(A1)",
    )
    page = admin.get(f"/admin/people/{stored.id}").text
    assert "=1+1" in page_text(page)


def test_a_reimport_updates_people_and_keeps_their_history(app, admin, open_cycle):
    imported(admin, STAFF)
    cycle = open_cycle()
    alex = person("alex@example.org")
    request = start_request(cycle, alex)
    db.session.commit()
    request_id, alex_id = request.id, alex.id

    alex_line = STAFF.splitlines()[1]
    changed = STAFF.replace(
        alex_line, "Alex Morgan-Reid,alex@example.org,Police staff,Camden,fay@example.org,coach,"
    )
    text = imported(admin, changed)

    assert "0 added, 1 updated, 9 unchanged" in text
    alex = person("alex@example.org")
    assert alex.id == alex_id
    assert (alex.name, alex.staff_type, alex.business_unit) == (
        "Alex Morgan-Reid",
        "Police staff",
        "Camden",
    )
    assert alex.line_manager.email == "fay@example.org"
    assert alex.coach is None
    assert alex.is_coach
    assert db.session.get(FeedbackRequest, request_id).subject_id == alex_id
    assert len(outbox_messages(app)) == 10  # nobody is welcomed twice


def test_without_a_coach_column_coaches_assigned_stay(admin):
    imported(admin, STAFF)
    no_coaches = "\n".join(line.rsplit(",", 1)[0] for line in STAFF.splitlines())

    text = imported(admin, no_coaches)

    assert "0 updated, 10 unchanged" in text
    assert person("alex@example.org").coach.email == "cora@example.org"


def test_removing_the_coach_role_removes_their_coachees(admin):
    imported(admin, STAFF)
    no_longer = STAFF.replace(
        "Leadership Academy,dana@example.org,coach,", "Academy,dana@example.org,,"
    )
    no_longer = no_longer.replace(",cora@example.org\n", ",\n")

    imported(admin, no_longer)

    assert person("alex@example.org").coach is None
    assert not person("cora@example.org").is_coach


def test_a_leaver_is_deactivated_and_their_session_ends(app, admin):
    imported(admin, STAFF)
    bea = person("bea@example.org")
    bea.set_password(PASSWORD)
    db.session.commit()
    bea_browser = app.test_client()
    sign_in(bea_browser, "bea@example.org")
    assert bea_browser.get("/").status_code == 200

    with_leavers = STAFF.replace(HEADER, HEADER.rstrip("\n") + ",leaver\n").replace(
        "Bea Khan,bea@example.org,Police staff,Westminster,chris@example.org,,",
        "Bea Khan,bea@example.org,Police staff,Westminster,chris@example.org,,,yes",
    )
    text = imported(admin, with_leavers)

    assert "1 deactivated" in text
    assert not person("bea@example.org").active
    assert bea_browser.get("/").location.startswith("/sign-in")
    refused = sign_in(app.test_client(), "bea@example.org")
    assert "do not match" in refused.text


def test_someone_cannot_be_managed_by_a_leaver(admin):
    content = (
        HEADER.rstrip("\n")
        + ",leaver\n"
        + (
            "Alex Morgan,alex@example.org,Police officer,Westminster,bea@example.org,,,\n"
            "Bea Khan,bea@example.org,Police staff,Westminster,,,,yes\n"
        )
    )
    text = refused(admin, content)

    assert "Line 2: line manager bea@example.org is marked as a leaver on line 3." in text


def test_a_full_list_deactivates_whoever_is_missing(app, admin):
    imported(admin, STAFF)
    without_ivo = STAFF.replace(
        "Ivo Jax,ivo@example.org,Police officer,Camden,fay@example.org,,\n", ""
    )

    assert "You are not in this full staff list" in refused(admin, without_ivo, full_list=True)
    assert person("ivo@example.org").active

    with_ada = without_ivo + "Ada Admin,ada@example.org,Police staff,HQ,,admin,\n"
    text = imported(admin, with_ada, full_list=True)

    assert "1 deactivated" in text
    assert not person("ivo@example.org").active
    assert person("hana@example.org").active


def test_an_administrator_cannot_remove_their_own_admin_role(admin):
    content = HEADER + "Ada Admin,ada@example.org,Police staff,HQ,,,\n"

    text = refused(admin, content)

    assert "Line 2: you cannot remove your own admin role" in text
    assert person("ada@example.org").is_admin


def test_someone_deactivated_who_comes_back_is_reactivated_and_welcomed(app, admin):
    imported(admin, STAFF)
    ivo = person("ivo@example.org")
    ivo.deactivate()
    db.session.commit()

    text = imported(admin, STAFF)

    assert "0 updated, 9 unchanged, 1 reactivated" in text
    assert person("ivo@example.org").active
    assert [m["To"] for m in outbox_messages(app)].count("ivo@example.org") == 2


def test_the_command_line_imports_and_refuses_like_the_page(app, runner, tmp_path):
    good = tmp_path / "staff.csv"
    good.write_text(STAFF, encoding="utf-8-sig")
    result = runner.invoke(args=["people", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert "10 added" in result.output
    assert person("fay@example.org").is_admin

    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "Zed Ray,zed@example.org,Police staff,Camden,no@example.org,,\n")
    result = runner.invoke(args=["people", "import", str(bad)])
    assert result.exit_code == 1
    assert "Line 2: line manager no@example.org is neither in this file" in result.output
    assert person_by_email("zed@example.org") is None
