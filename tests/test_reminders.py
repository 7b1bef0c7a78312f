"""Raters who have not answered are reminded: by hand, and 7 and 2 days before the close."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import update

from feedback360.audit.models import AuditEntry
from feedback360.extensions import db
from feedback360.feedback import services
from feedback360.feedback.answers import Answers
from feedback360.feedback.models import Invitation
from tests.conftest import (
    DATABASES,
    app_on,
    csrf_token,
    nominate_colleague,
    outbox_messages,
    page_text,
)

CLOSES_ON = date.today() + timedelta(days=20)
WAITING = {"invited@example.org", "opened@example.org"}


def day(days_before_close: int) -> str:
    return (CLOSES_ON - timedelta(days=days_before_close)).isoformat()


def reminded(app) -> list[str]:  # type: ignore[no-untyped-def]
    """Who received a reminder, one entry per message, in the order sent."""
    return [m["To"] for m in outbox_messages(app) if m["Subject"].startswith("Reminder")]


@pytest.fixture(params=DATABASES)
def app(request, tmp_path, monkeypatch):
    """Claiming a reminder for the day is one conditional update: tried on both databases."""
    with app_on(request.param, tmp_path, monkeypatch) as app:
        yield app


@pytest.fixture
def cycle(open_cycle, make_person, framework):
    """Sam's four raters: one answered, one declined, one opened the form, one did nothing."""
    found = open_cycle(min_raters=3, closes_on=CLOSES_ON)
    sam = make_person("Sam Taylor", "sam@example.org")
    request = services.start_request(found, sam)
    for name in ("answered", "declined", "opened", "invited"):
        nominate_colleague(request, name.capitalize(), f"{name}@example.org", "peer")
    services.send_invitations(request)
    answered, declined, opened, _ = request.invitations
    services.submit_rater_response(answered, Answers({s.id: 4 for s in framework.statements}))
    services.decline(declined)
    services.save_rater_draft(opened, Answers({framework.statements[0].id: 2}))
    db.session.commit()
    return found


def press(browser, page: str, action: str) -> str:  # type: ignore[no-untyped-def]
    """Press a button on the page; the text of the page it leads back to."""
    response = browser.post(action, data={"csrf_token": csrf_token(browser.get(page).text)})
    assert response.status_code == 302
    return page_text(browser.get(response.location).text)


def test_the_dashboard_reminds_only_those_who_have_not_answered_once_a_day(app, admin, cycle):
    page = f"/admin/cycles/{cycle.id}"
    assert "Remind every rater who has not answered (2)" in page_text(admin.get(page).text)

    first = press(admin, page, f"{page}/reminders")

    assert "2 reminders sent." in first
    assert sorted(reminded(app)) == sorted(WAITING)
    second = press(admin, page, f"{page}/reminders")
    assert "Nobody to remind" in second
    assert len(reminded(app)) == 2
    invitations = db.session.scalars(db.select(Invitation).order_by(Invitation.id)).all()
    db.session.expire_all()
    assert [(i.reminders, i.last_reminded_on) for i in invitations] == [
        (0, None),
        (0, None),
        (1, date.today()),
        (1, date.today()),
    ]
    entries = db.session.scalars(db.select(AuditEntry).filter_by(action="reminders.send")).all()
    assert [e.detail for e in entries] == ["2 raters reminded", "0 raters reminded"]


def test_one_request_s_raters_can_be_reminded(app, admin, cycle, make_person):
    other = services.start_request(cycle, make_person("Kim Lee", "kim@example.org"))
    for n in range(1, 4):
        nominate_colleague(other, f"Colleague {n}", f"colleague{n}@example.org", "peer")
    services.send_invitations(other)
    db.session.commit()
    page = f"/admin/cycles/{cycle.id}"

    text = press(admin, page, f"{page}/requests/{other.id}/reminders")

    assert "3 reminders sent." in text
    assert sorted(reminded(app)) == [f"colleague{n}@example.org" for n in range(1, 4)]


def test_reminders_go_only_while_the_cycle_is_open(app, admin, cycle, runner):
    assert runner.invoke(args=["cycle", "close", str(cycle.id)]).exit_code == 0
    token = csrf_token(admin.get(f"/admin/cycles/{cycle.id}").text)

    response = admin.post(f"/admin/cycles/{cycle.id}/reminders", data={"csrf_token": token})

    assert "reminders go only while it is open" in page_text(admin.get(response.location).text)
    assert "Remind every rater" not in admin.get(f"/admin/cycles/{cycle.id}").text
    sent = runner.invoke(args=["reminders", "send", "--today", day(2)])
    assert sent.exit_code == 0
    assert reminded(app) == []


def send(runner, days_before_close: int) -> str:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["reminders", "send", "--today", day(days_before_close)])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_daily_job_reminds_seven_and_two_days_before_the_close(app, cycle, runner):
    schedule = {}
    for days_before in range(9, -2, -1):
        send(runner, days_before)
        send(runner, days_before)  # a second run the same day reminds nobody again
        schedule[days_before] = len(reminded(app))

    # 2 non-responders reminded on day 7 and again on day 2, never in between or after.
    assert schedule == {9: 0, 8: 0, 7: 2, 6: 2, 5: 2, 4: 2, 3: 2, 2: 4, 1: 4, 0: 4, -1: 4}
    assert sorted(reminded(app)) == sorted([*WAITING, *WAITING])


def test_a_missed_run_is_caught_up_once(app, cycle, runner):
    assert "No reminders are due today." in send(runner, 8)
    # The job did not run on day 7; the next run sends that day's reminder, once.
    assert "2 raters reminded (7 days before it closes)" in send(runner, 5)
    assert "0 raters reminded" in send(runner, 4)
    assert len(reminded(app)) == 2


def test_someone_reminded_by_hand_that_day_is_not_reminded_again(app, admin, cycle, runner):
    page = f"/admin/cycles/{cycle.id}"
    db.session.execute(update(Invitation).values(last_reminded_on=CLOSES_ON - timedelta(2)))
    db.session.commit()

    assert "0 raters reminded" in send(runner, 2)
    assert reminded(app) == []
    assert "2 reminders sent." in press(admin, page, f"{page}/reminders")  # a new day
