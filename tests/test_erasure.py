"""Erasing a person's data on request, leaving everyone else's reports as they were."""

from __future__ import annotations

from datetime import timedelta

import pytest

from feedback360.accounts.import_jobs import create_import_job
from feedback360.accounts.models import FAILED, REFUSED, ImportJob, Person
from feedback360.audit.models import AuditEntry
from feedback360.coaching.models import Debrief
from feedback360.extensions import db
from feedback360.feedback.models import (
    SUBMITTED,
    Comment,
    FeedbackRequest,
    Invitation,
    Response,
)
from feedback360.mailing.models import QueuedMail
from feedback360.reports.models import Report
from feedback360.timeutil import today
from tests.conftest import (
    DATABASES,
    app_on,
    link_in,
    nominate_and_send,
    outbox_messages,
    page_text,
    sign_in,
    submit_form,
)


@pytest.fixture
def app(request, tmp_path, monkeypatch):
    """The suite's database, unless a test asks for each (deletions must respect foreign keys)."""
    with app_on(getattr(request, "param", None), tmp_path, monkeypatch) as app:
        yield app


def answers(framework, score: int) -> dict[str, str]:
    return {f"s{s.id}": str(score) for value in framework.values for s in value.statements}


def ask_for_feedback(app, cycle, subject_email: str, raters: list[tuple[str, str]]) -> int:
    """The subject asks the raters for feedback; returns the request's id."""
    browser = app.test_client()
    sign_in(browser, subject_email)
    page = submit_form(browser, "/", {}, action=f"/cycles/{cycle.id}/request").location
    nominate_and_send(browser, page, [(name, email, "peer") for name, email in raters])
    return int(page.rsplit("/", 1)[1])


def answer(app, framework, email: str, score: int, comment: str) -> None:
    """The rater follows the link in their latest invitation and submits."""
    (message,) = [m for m in outbox_messages(app) if m["To"] == email][-1:]
    link = link_in(message)
    data = {**answers(framework, score), f"c{framework.values[0].id}": comment, "action": "submit"}
    assert submit_form(app.test_client(), f"{link}/form", data).location == "/r/thanks"


def rows(model, **where) -> list:  # type: ignore[no-untyped-def]
    return list(db.session.scalars(db.select(model).filter_by(**where)))


def ratings_of(request_id: int) -> list[bytes]:
    query = db.select(Response.scores).filter_by(request_id=request_id)
    return sorted(db.session.scalars(query))


@pytest.fixture
def erin_everywhere(app, admin, make_person, open_cycle, framework, runner):
    """Erin gave Sam feedback, asked for her own, manages Tom, coaches Sam, and has a report.

    Returns the ids that the tests look at, and Sam's report as built.
    """
    sam = make_person("Sam Taylor", "sam@example.org")
    erin = make_person("Erin Walsh", "erin@example.org", is_coach=True)
    tom = make_person("Tom Hart", "tom@example.org")
    cora = make_person("Cora Lane", "cora@example.org", is_coach=True)
    tom.line_manager = sam.coach = erin
    db.session.commit()
    cycle = open_cycle(min_raters=3)
    sams_raters = [("Erin Walsh", "erin@example.org")] + [
        (f"Peer {n}", f"peer{n}@example.org") for n in range(1, 4)
    ]
    sams = ask_for_feedback(app, cycle, "sam@example.org", sams_raters)
    for n, (_, email) in enumerate(sams_raters):
        answer(app, framework, email, 2 + n % 3, f"Sam comment {n}")
    erins = ask_for_feedback(
        app, cycle, "erin@example.org", [(f"Other {n}", f"other{n}@example.org") for n in (1, 2, 3)]
    )
    for n in (1, 2, 3):  # three, so that their answers are kept at the close
        answer(app, framework, f"other{n}@example.org", 4, f"Erin is always on time ({n})")
    assert runner.invoke(args=["cycle", "close", cycle.name]).exit_code == 0
    assert runner.invoke(args=["reports", "build", cycle.name]).exit_code == 0
    db.session.add_all(
        [
            Debrief(request_id=erins, coach=cora, held_on=today(), private_note="About Erin"),
            Debrief(request_id=sams, coach=erin, held_on=today(), private_note="Erin's notes"),
            QueuedMail(kind="report_ready", to_address="erin@example.org", request_id=erins),
        ]
    )
    db.session.commit()
    sams_report = rows(Report, request_id=sams)[0]
    return {
        "erin": erin.id,
        "sam": sam.id,
        "tom": tom.id,
        "sams": sams,
        "erins": erins,
        "erins_responses": [r.id for r in rows(Response, request_id=erins)],
        "sams_report": (sams_report.html, sams_report.pdf),
        "sams_ratings": ratings_of(sams),
    }


@pytest.mark.parametrize("app", DATABASES, indirect=True)
def test_erasing_deletes_their_feedback_and_anonymises_them(app, admin, erin_everywhere):
    ids = erin_everywhere
    erin_browser = app.test_client()
    sign_in(erin_browser, "erin@example.org")
    page = f"/admin/people/{ids['erin']}/erase"

    confirm = page_text(admin.get(page).text)
    assert "Their own feedback requests (1: Spring 2026)" in confirm
    assert "3 responses, with ratings and comments" in confirm
    assert "1 report" in confirm
    assert "1 invitation to give feedback" in confirm
    assert "1 person loses them as line manager" in confirm
    assert "1 person loses them as coach" in confirm

    response = submit_form(admin, page, {"confirm_email": "erin@example.org"})

    assert response.status_code == 302
    assert "The person’s data has been erased." in page_text(admin.get(response.location).text)
    db.session.expire_all()
    # Her own request, with everything attached, is gone.
    assert db.session.get(FeedbackRequest, ids["erins"]) is None
    for model in (Response, Invitation, Report, Debrief, QueuedMail):
        assert rows(model, request_id=ids["erins"]) == [], model
    for model in (Comment,):
        assert rows(model, response_id=ids["erins_responses"][0]) == [], model
    assert rows(QueuedMail, to_address="erin@example.org") == []
    # She is anonymised, signed out and cannot sign in.
    erin = db.session.get_one(Person, ids["erin"])
    assert erin.name == "Erased person"
    assert erin.email == f"erased-{erin.id}@erased.invalid"
    assert (erin.password_hash, erin.staff_type, erin.business_unit) == (None, None, None)
    assert (erin.active, erin.is_coach, erin.is_admin) == (False, False, False)
    assert erin_browser.get("/").location.startswith("/sign-in")
    assert db.session.get_one(Person, ids["tom"]).line_manager is None
    assert db.session.get_one(Person, ids["sam"]).coach is None
    # What she gave Sam stays, and Sam's report has not changed by a byte.
    (as_rater,) = [i for i in rows(Invitation, request_id=ids["sams"]) if "erased" in i.email]
    assert (as_rater.name, as_rater.status) == ("Erased person", SUBMITTED)
    assert as_rater.email.endswith("@erased.invalid")
    assert len(rows(Response, request_id=ids["sams"])) == 4
    assert ratings_of(ids["sams"]) == ids["sams_ratings"]
    report = rows(Report, request_id=ids["sams"])[0]
    assert (report.html, report.pdf) == ids["sams_report"]
    (debrief,) = rows(Debrief, request_id=ids["sams"])
    assert debrief.private_note == ""  # nobody could read her notes any more
    # The log says an erasure happened, to whom by id only.
    (entry,) = rows(AuditEntry, action="person.erase")
    assert entry.target == f"person {ids['erin']}"
    for logged in rows(AuditEntry):
        assert "Erin" not in f"{logged.target} {logged.detail}"
        assert "erin@" not in f"{logged.target} {logged.detail}"


def test_the_wrong_email_erases_nothing(app, admin, make_person):
    sam = make_person("Sam Taylor", "sam@example.org")
    page = f"/admin/people/{sam.id}/erase"

    response = submit_form(admin, page, {"confirm_email": "someone@example.org"})

    assert response.status_code == 400
    assert "Type the person’s email address exactly to confirm." in page_text(response.text)
    assert 'value="someone@example.org"' in response.text
    db.session.expire_all()
    assert db.session.get_one(Person, sam.id).name == "Sam Taylor"
    assert rows(AuditEntry, action="person.erase") == []


def test_an_administrator_cannot_erase_themselves(app, admin):
    ada = rows(Person, email="ada@example.org")[0]

    response = submit_form(admin, f"/admin/people/{ada.id}/erase", {"confirm_email": ada.email})

    assert response.status_code == 400
    assert "You cannot erase your own data" in page_text(response.text)


def test_an_erased_person_cannot_be_changed_again(app, admin, make_person):
    sam = make_person("Sam Taylor", "sam@example.org")
    page = f"/admin/people/{sam.id}/erase"
    submit_form(admin, page, {"confirm_email": "SAM@example.org "})

    assert admin.get(page).location == f"/admin/people/{sam.id}"
    text = page_text(admin.get(f"/admin/people/{sam.id}").text)
    assert "This person’s data was erased" in text
    assert "Reactivate" not in text


STAFF_LIST_WITH_SAM = (
    "name,email,staff type,business unit,line manager's email,roles\n"
    "Sam Taylor,sam@example.org,Police staff,Camden,,\n"
)


def test_imports_keep_no_trace_of_them_and_cannot_bring_them_back(app, admin, make_person):
    """A refused import's problem lines lose their name and address; a stopped import,
    whose kept file holds their row, is discarded rather than left to be started again."""
    sam = make_person("Sam Taylor", "sam@example.org")
    ada = rows(Person, email="ada@example.org")[0]
    refused = ImportJob(
        state=REFUSED,
        problems=[
            "Line 3: line manager SAM@example.org is not a valid choice for Kim Lee.",
            "Line 4: Sam Taylor is listed twice.",
            "Line 5: Samantha Taylor has no email address.",
        ],
    )
    db.session.add(refused)
    listed = STAFF_LIST_WITH_SAM
    stopped = create_import_job(listed.encode(), "staff.csv", full_list=False, acting=ada)
    stopped.queued_at -= timedelta(hours=1)  # its web process died before starting it
    db.session.commit()

    page = f"/admin/people/{sam.id}/erase"
    assert submit_form(admin, page, {"confirm_email": "sam@example.org"}).status_code == 302

    db.session.expire_all()
    assert refused.problems == [
        "Line 3: line manager Erased person is not a valid choice for Kim Lee.",
        "Line 4: Erased person is listed twice.",
        "Line 5: Samantha Taylor has no email address.",
    ]
    assert (stopped.state, stopped.file_data) == (FAILED, None)


def test_no_one_is_erased_while_an_import_is_under_way(app, admin, make_person):
    sam = make_person("Sam Taylor", "sam@example.org")
    ada = rows(Person, email="ada@example.org")[0]
    listed = STAFF_LIST_WITH_SAM
    create_import_job(listed.encode(), "staff.csv", full_list=False, acting=ada)
    db.session.commit()

    response = submit_form(admin, f"/admin/people/{sam.id}/erase", {"confirm_email": sam.email})

    assert response.status_code == 400
    assert "A staff-list import is under way" in page_text(response.text)
    db.session.expire_all()
    assert db.session.get_one(Person, sam.id).name == "Sam Taylor"
