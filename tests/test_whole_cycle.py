"""A whole cycle of 30 people, from the CSV import to the release, through HTTP only.

Everyone acts as they would in a browser (the administrator, four staff members asking for
feedback, their line managers, the raters who follow the links in their mail, and the
coaches), and every message goes through a real SMTP server on loopback. The only set-up
outside HTTP is the first administrator's account and the bundled framework.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from feedback360.timeutil import today
from tests.conftest import (
    DATABASES,
    page_text,
    running_app,
    sign_in,
    submit_form,
    text_of,
    wait_for_the_build,
)
from tests.servers import Collector
from tests.test_cycle_admin import cycle_form, post_form
from tests.test_people_import import HEADER, upload

NEW_PASSWORD = "a long new password"
CYCLE = "Spring 2026"

# Thirty people in three business units, each unit with a head who manages the rest.
# Cora and Kit are the coaches; each of the four people who ask for feedback has one.
STAFF_LIST = HEADER + (
    "Wendy Walsh,wendy@example.org,Police officer,Westminster,,,\n"
    "Alex Morgan,alex@example.org,Police officer,Westminster,wendy@example.org,,cora@example.org\n"
    "Bea Khan,bea@example.org,Police staff,Westminster,wendy@example.org,,kit@example.org\n"
    "Ben Ash,ben@example.org,Police officer,Westminster,wendy@example.org,,\n"
    "Cat Bell,cat@example.org,Police staff,Westminster,wendy@example.org,,\n"
    "Dev Nair,dev@example.org,Police officer,Westminster,wendy@example.org,,\n"
    "Elsa Gray,elsa@example.org,Police staff,Westminster,wendy@example.org,,\n"
    "Finn Ross,finn@example.org,Police officer,Westminster,wendy@example.org,,\n"
    "Gita Rao,gita@example.org,Police staff,Westminster,wendy@example.org,,\n"
    "Hal Price,hal@example.org,Police officer,Westminster,wendy@example.org,,\n"
    "Colin Cole,colin@example.org,Police officer,Camden,,,\n"
    "Eli Ford,eli@example.org,Police staff,Camden,colin@example.org,,cora@example.org\n"
    "Ivy Long,ivy@example.org,Police officer,Camden,colin@example.org,,\n"
    "Jon Park,jon@example.org,Police staff,Camden,colin@example.org,,\n"
    "Kit Moss,kit@example.org,Police staff,Camden,colin@example.org,coach,\n"
    "Lia Cruz,lia@example.org,Police officer,Camden,colin@example.org,,\n"
    "Max Webb,max@example.org,Police staff,Camden,colin@example.org,,\n"
    "Nia Obi,nia@example.org,Police officer,Camden,colin@example.org,,\n"
    "Oli Hart,oli@example.org,Police staff,Camden,colin@example.org,,\n"
    "Pia Lund,pia@example.org,Police officer,Camden,colin@example.org,,\n"
    "Hugo Hart,hugo@example.org,Police officer,Hackney,,,\n"
    "Gus Hale,gus@example.org,Police officer,Hackney,hugo@example.org,,kit@example.org\n"
    "Cora Lane,cora@example.org,Police staff,Hackney,hugo@example.org,coach,\n"
    "Quin Shaw,quin@example.org,Police officer,Hackney,hugo@example.org,,\n"
    "Rae Dunn,rae@example.org,Police staff,Hackney,hugo@example.org,,\n"
    "Sol Grant,sol@example.org,Police officer,Hackney,hugo@example.org,,\n"
    "Tess Fox,tess@example.org,Police staff,Hackney,hugo@example.org,,\n"
    "Uma Bose,uma@example.org,Police officer,Hackney,hugo@example.org,,cora@example.org\n"
    "Vic Lowe,vic@example.org,Police staff,Hackney,hugo@example.org,,\n"
    "Yan Chen,yan@example.org,Police officer,Hackney,hugo@example.org,,\n"
)
EVERYONE = [line.split(",")[1] for line in STAFF_LIST.splitlines()[1:]]

# Who asks for feedback: their line manager, the three peers they tick among the
# suggestions, and two people they type in (a colleague elsewhere and a partner).
SUBJECTS = {
    "alex@example.org": (
        "Alex Morgan",
        "Wendy Walsh",
        ["Ben Ash", "Cat Bell", "Dev Nair"],
        [("Ivy Long", "ivy@example.org"), ("Pat Partner", "pat@council.example.org")],
    ),
    "bea@example.org": (
        "Bea Khan",
        "Wendy Walsh",
        ["Elsa Gray", "Finn Ross", "Gita Rao"],
        [("Quin Shaw", "quin@example.org"), ("Pat Partner", "pat@council.example.org")],
    ),
    "eli@example.org": (
        "Eli Ford",
        "Colin Cole",
        ["Ivy Long", "Jon Park", "Lia Cruz"],
        [("Hal Price", "hal@example.org"), ("Rob Partner", "rob@charity.example.org")],
    ),
    "gus@example.org": (
        "Gus Hale",
        "Hugo Hart",
        ["Quin Shaw", "Rae Dunn", "Sol Grant"],
        [("Ben Ash", "ben@example.org"), ("Sue Partner", "sue@council.example.org")],
    ),
}
DECLINER = ("finn@example.org", "Bea Khan")  # one of Bea's peers declines
LATE_RATER = ("sue@council.example.org", "Gus Hale")  # answers only after a reminder
# Six raters each; Bea's decliner leaves her five.
RESPONSES = {"Alex Morgan": 6, "Bea Khan": 5, "Eli Ford": 6, "Gus Hale": 6}
SUBJECT_NAMES = [name for name, *_rest in SUBJECTS.values()]
COACHES = {"Alex Morgan": "cora", "Eli Ford": "cora", "Bea Khan": "kit", "Gus Hale": "kit"}


# --- the world: an SMTP server on loopback, and the app sending through it ---------------


class Mailbox:
    """What the SMTP server has received, read as the recipients would read it."""

    def __init__(self, handler: Collector) -> None:
        self.handler = handler

    def messages(self, *, to: str | None = None, subject: str | None = None) -> list[Message]:
        found = [message_from_bytes(e.original_content) for e in self.handler.envelopes]
        return [
            m
            for m in found
            if (to is None or m["To"] == to) and (subject is None or subject in m["Subject"])
        ]

    def one(self, *, to: str, subject: str) -> Message:
        found = self.messages(to=to, subject=subject)
        assert len(found) == 1, (to, subject, [m["Subject"] for m in self.messages(to=to)])
        return found[0]


def link_in(message: Message, path: str) -> str:
    """The path of the link in a message that starts with `path`, as its reader clicks it."""
    match = re.search(rf"http://localhost({re.escape(path)}[A-Za-z0-9_\-/]*)", text_of(message))
    assert match, text_of(message)
    return match.group(1)


@pytest.fixture
def mailbox(smtp_server: Controller) -> Mailbox:
    return Mailbox(smtp_server.handler)


@pytest.fixture(params=DATABASES)
def app(request, tmp_path, monkeypatch, smtp_server) -> Iterator[Flask]:
    smtp = {"MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_server.port}
    with running_app(tmp_path, monkeypatch, database=request.param, **smtp) as app:
        yield app


# --- what each person does ---------------------------------------------------------------


def press(browser: FlaskClient, page: str, action: str, data: dict | None = None) -> str:
    """Press a button on a page; the text of the page it leads to."""
    response = submit_form(browser, page, data or {}, action=action)
    assert response.status_code == 302, page_text(response.text)
    return page_text(browser.get(response.location).text)


def confirm(admin: FlaskClient, cycle_page: str, action: str) -> str:
    """Open an action's confirmation page and confirm; the dashboard's text afterwards."""
    page = f"{cycle_page}/{action}"
    assert "This cannot be undone." in admin.get(page).text
    return press(admin, page, page)


def upload_staff_list(admin: FlaskClient, content: str) -> str:
    response = upload(admin, content)
    assert response.status_code == 302, page_text(response.text)
    return page_text(admin.get(response.location).text)


def set_password_from_mail(app: Flask, mailbox: Mailbox, email: str) -> FlaskClient:
    """The person follows the link in their welcome mail; their browser, now signed in."""
    message = mailbox.one(to=email, subject="Set your feedback360 password")
    link = link_in(message, "/account/set-password/")
    browser = app.test_client()
    assert email in page_text(browser.get(link).text)
    response = submit_form(browser, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.location == "/"
    assert "Your password is set and you are signed in." in browser.get("/").text
    return browser


def create_cycle_through_form(admin: FlaskClient) -> str:
    """The administrator fills in the new-cycle form; the dashboard's path."""
    data = cycle_form(
        name=CYCLE, manager_approves="y", outside_raters="y", release_mode="coach_first"
    )
    response = post_form(admin, "/admin/cycles/new", data)
    assert response.status_code == 302, page_text(response.text)
    assert f"Cycle “{CYCLE}” created as a draft." in page_text(admin.get(response.location).text)
    return response.location


def answer_every_statement(browser: FlaskClient, form_page: str, comment: str = ""):  # type: ignore[no-untyped-def]
    """Rate every statement on the form "Often" (4), write a comment on the first value and
    submit."""
    html = browser.get(form_page).text
    statements = sorted(set(re.findall(r'name="(s\d+)"', html)))
    assert len(statements) == 46  # the MPS 2006 framework
    first_comment_box = re.search(r'<textarea id="(c\d+)"', html).group(1)
    answers = {**dict.fromkeys(statements, "4"), first_comment_box: comment}
    return submit_form(browser, form_page, {**answers, "action": "submit"})


def ask_for_feedback(browser: FlaskClient) -> str:
    """The staff member presses "Ask for feedback" on their home page; the request's path."""
    home = browser.get("/").text
    assert f"{CYCLE} is open" in page_text(home)
    action = re.search(r'action="(/cycles/\d+/request)"', home).group(1)
    return submit_form(browser, "/", {}, action=action).location


def self_assess(browser: FlaskClient, request_page: str) -> None:
    response = answer_every_statement(browser, f"{request_page}/self")
    assert response.location == request_page
    assert "Self-assessment submitted." in browser.get(request_page).text


def tick_suggestions(browser: FlaskClient, request_page: str, names: list[str]) -> str:
    """Tick these people among the suggestions, keeping the group suggested for each."""
    html = browser.get(request_page).text
    boxes = re.findall(r'name="ask_(\d+)"[^>]*>\s*<span>Ask ([^<]+)</span>', html)
    offered = {name: key for key, name in boxes}
    data = {}
    for name in names:
        key = offered[name]
        group = re.search(rf'name="group_{key}">.*?<option selected value="(\w+)"', html, re.S)
        data |= {f"ask_{key}": "y", f"group_{key}": group.group(1)}
    return press(browser, request_page, f"{request_page}/nominations/suggested", data)


def nominate_by_hand(browser: FlaskClient, request_page: str, name: str, email: str) -> str:
    data = {"name": name, "email": email, "group": "other"}
    return press(browser, request_page, f"{request_page}/nominations", data)


def approve_from_mail(browser: FlaskClient, message: Message, subject_name: str) -> str:
    link = link_in(message, "/approvals/")
    assert f"{subject_name}’s raters" in page_text(browser.get(link).text)
    return press(browser, link, f"{link}/approve")


def rater_answers_from_mail(app: Flask, message: Message, subject_name: str) -> None:
    """A rater, with no account, follows their link, reads the first page and submits."""
    rater, link = app.test_client(), link_in(message, "/r/")
    assert f"{subject_name} has asked for your feedback" in rater.get(link).text
    comment = f"Thank you, {subject_name.split()[0]}, for listening."
    assert answer_every_statement(rater, f"{link}/form", comment).location == "/r/thanks"


def rater_declines_from_mail(app: Flask, message: Message) -> None:
    rater, link = app.test_client(), link_in(message, "/r/")
    assert submit_form(rater, f"{link}/decline", {}).location == "/r/declined"


def pdf_text(data: bytes) -> str:
    pages = PdfReader(io.BytesIO(data)).pages
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in pages))


def download_own_report(browser: FlaskClient, message: Message) -> bytes:
    """The subject follows the mail's link home and downloads the PDF it offers."""
    home = browser.get(link_in(message, "/")).text
    pdf = re.search(r'href="(/reports/\d+/report\.pdf)"', home)
    assert pdf, page_text(home)
    download = browser.get(pdf.group(1))
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    return download.data


# --- the story ---------------------------------------------------------------------------


def test_a_cycle_of_thirty_people_from_import_to_release(app, mailbox, make_person, framework):
    make_person("Ada Admin", "ada@example.org", is_admin=True)
    admin = app.test_client()
    sign_in(admin, "ada@example.org")

    # 1. Ada uploads the staff list and sees what it did.
    text = upload_staff_list(admin, STAFF_LIST)
    assert "Import complete: 30 added, 0 updated, 0 unchanged, 0 reactivated" in text
    assert "could not be sent" not in text

    # 2. Everyone sets a password from their welcome mail.
    assert sorted(m["To"] for m in mailbox.messages()) == sorted(EVERYONE)
    browsers = {email: set_password_from_mail(app, mailbox, email) for email in EVERYONE}

    # 3. Ada creates the cycle (managers approve raters; coaches read first) and opens it.
    dashboard = create_cycle_through_form(admin)
    assert "The cycle is open." in confirm(admin, dashboard, "open")

    # 4. Four people self-assess, choose raters and ask their line manager to approve.
    request_pages = {}
    for email, (name, manager, peers, typed) in SUBJECTS.items():
        me = browsers[email]
        page = request_pages[name] = ask_for_feedback(me)
        self_assess(me, page)
        assert "4 people added to your list." in tick_suggestions(me, page, [manager, *peers])
        for rater_name, rater_email in typed:
            assert f"{rater_name} added to your list." in nominate_by_hand(
                me, page, rater_name, rater_email
            )
        asked = press(me, page, f"{page}/approval")
        assert "Your list has been sent for approval." in asked
        assert f"Your list is with {manager} for approval." in asked
    assert mailbox.messages(subject="asks for your feedback") == []  # not before approval

    for email, (name, manager, peers, typed) in SUBJECTS.items():
        manager_email = f"{manager.split()[0].lower()}@example.org"
        message = mailbox.one(to=manager_email, subject=f"Please approve {name}'s raters")
        approved = approve_from_mail(browsers[manager_email], message, name)
        assert "List approved: 6 invitations sent." in approved
        invited = sorted(m["To"] for m in mailbox.messages(subject=f"{name} asks for"))
        expected = [manager_email, *(f"{p.split()[0].lower()}@example.org" for p in peers)]
        assert invited == sorted([*expected, *(e for _, e in typed)])
        assert "Your list was approved" in page_text(browsers[email].get(request_pages[name]).text)

    # 5. The raters follow their links; one declines, one waits for a reminder.
    for name in SUBJECT_NAMES:
        for message in mailbox.messages(subject=f"{name} asks for your feedback"):
            if (message["To"], name) == DECLINER:
                rater_declines_from_mail(app, message)
            elif (message["To"], name) != LATE_RATER:
                rater_answers_from_mail(app, message, name)

    text = page_text(admin.get(dashboard).text)
    assert "Remind every rater who has not answered (1)" in text
    assert "1 reminder sent." in press(admin, dashboard, f"{dashboard}/reminders")
    late_email, late_subject = LATE_RATER
    reminder = mailbox.one(to=late_email, subject=f"Reminder: {late_subject} asks")
    rater_answers_from_mail(app, reminder, late_subject)
    for email, (name, *_rest) in SUBJECTS.items():
        page = browsers[email].get(request_pages[name]).text
        assert f"<strong>{RESPONSES[name]}</strong> of your raters have responded" in page

    # 6. Ada closes the cycle, which starts the build, and follows the build to its end.
    assert "The cycle is closed, and its reports are being built" in confirm(
        admin, dashboard, "close"
    )
    text = wait_for_the_build(admin, dashboard)
    assert "4 of 4 reports built. The last build has finished." in text
    assert "could not be built" not in text

    # Coaches first: each coach hears about each of their coachees' reports.
    assert "The reports are released to coaches." in confirm(admin, dashboard, "release-to-coaches")
    coach_mails = sorted((m["To"], m["Subject"]) for m in mailbox.messages(subject="is ready"))
    assert coach_mails == sorted(
        (f"{coach}@example.org", f"{name}'s feedback report is ready")
        for name, coach in COACHES.items()
    )

    # Cora reads and downloads Alex's report, then records the debrief.
    cora = browsers["cora@example.org"]
    listing = cora.get("/coach/").text
    report = re.search(r'href="(/coach/reports/(\d+)/)">Read<span[^>]*> Alex Morgan', listing)
    assert report, page_text(listing)
    assert "Alex Morgan" in cora.get(report.group(1)).text
    coach_pdf = cora.get(f"{report.group(1)}report.pdf")
    assert coach_pdf.mimetype == "application/pdf"
    assert "Alex Morgan" in pdf_text(coach_pdf.data)
    debrief = f"{report.group(1)}debrief"
    note = "Alex will ask the team for one thing to change each month."
    done = press(cora, debrief, debrief, {"held_on": today().isoformat(), "private_note": note})
    assert "Debrief with Alex Morgan recorded." in done
    assert f"Held on {today():%-d %B %Y}" in done
    assert browsers["alex@example.org"].get(f"/reports/{report.group(2)}/").status_code == 404

    # Then staff: each subject hears, and downloads a PDF with their name and count.
    assert "The reports are released to staff." in confirm(admin, dashboard, "release-to-staff")
    for email, (name, *_rest) in SUBJECTS.items():
        message = mailbox.one(to=email, subject="Your feedback report is ready")
        text = pdf_text(download_own_report(browsers[email], message))
        assert name in text
        assert f"Thank you, {name.split()[0]}, for listening." in text  # raters' comments
        assert re.search(rf"Total responses \(not counting yourself\) {RESPONSES[name]}\b", text)
        assert note not in text
    assert mailbox.messages(subject="Your feedback report", to="wendy@example.org") == []

    # 7. The organisation summary opens; the audit log shows every download.
    summary = page_text(admin.get(f"{dashboard}/organisation?show=table").text)
    assert f"Organisation summary: {CYCLE}" in summary
    rater_responses = sum(RESPONSES.values())
    assert f"4.00 (4 people, {rater_responses} responses)" in summary  # everyone, each statement
    assert "Westminster" in summary
    assert "Hidden" in summary  # two people in a unit are too few to show

    audit = page_text(admin.get("/admin/audit?action=report.download").text)
    assert "5 entries" in audit  # four subjects and one coach
    for name in SUBJECT_NAMES:  # each downloaded their own (the entry names no one else)
        assert f"{name} Report downloaded" in audit
    assert audit.count("read by them") == 4
    assert "Cora Lane Report downloaded" in audit
