"""`feedback360 demo`: something to see on every page, and `--reset` to start again."""

from __future__ import annotations

from sqlalchemy import func

from feedback360.accounts.models import Person
from feedback360.accounts.services import person_by_email
from feedback360.cli.demo import FINISHED_CYCLE, OPEN_CYCLE, SUBJECT_EMAIL
from feedback360.cycles.models import Cycle
from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest
from feedback360.feedback.sealing import keys_dir
from feedback360.feedback.services import nominate, start_request
from feedback360.feedback.suggestions import suggested_raters
from feedback360.groups import RATER_GROUPS
from feedback360.reports.cycle_summary import cycle_summary
from tests.conftest import sign_in


def cycle_named(name: str) -> Cycle:
    db.session.expire_all()
    return db.session.execute(db.select(Cycle).filter_by(name=name)).scalar_one()


def people() -> int:
    return db.session.scalar(db.select(func.count()).select_from(Person)) or 0


def requests_in(cycle: Cycle) -> int:
    where = FeedbackRequest.cycle_id == cycle.id
    return db.session.scalar(db.select(func.count()).select_from(FeedbackRequest).where(where))


def start_asking_as_sam() -> None:
    sam = person_by_email(SUBJECT_EMAIL)
    assert sam is not None
    feedback_request = start_request(cycle_named(OPEN_CYCLE), sam)
    nominate(feedback_request, "Priya Shah", "priya.shah@example.org", "peer")
    db.session.commit()


def test_the_organisation_summary_shows_figures_for_every_unit_and_staff_type(runner):
    assert runner.invoke(args=["demo"]).exit_code == 0

    summary = cycle_summary(cycle_named(FINISHED_CYCLE))

    units, staff_types = summary.views["business_unit"], summary.views["staff_type"]
    assert units.segments == ["Leadership Academy", "Territorial Policing", "All"]
    assert staff_types.segments == ["Police officer", "Police staff", "All"]
    for view in (units, staff_types):
        for row in (*view.values, *view.values_self, *view.statements):
            assert all(cell.mean is not None for cell in row.values()), row


def test_sam_has_colleagues_to_suggest_as_raters(runner):
    assert runner.invoke(args=["demo"]).exit_code == 0
    sam = person_by_email(SUBJECT_EMAIL)
    assert sam is not None

    suggestions = suggested_raters(start_request(cycle_named(OPEN_CYCLE), sam), list(RATER_GROUPS))

    colleagues = [s.person for s in suggestions if s.person.id != sam.line_manager_id]
    assert len(colleagues) >= 5
    assert all(person.business_unit == sam.business_unit for person in colleagues)
    assert {s.group for s in suggestions} == {"line_manager", "direct_report", "peer"}


def test_reset_starts_the_demo_again_with_the_open_cycle_empty(runner, client):
    assert runner.invoke(args=["demo"]).exit_code == 0
    before = people()
    old_keys = set(keys_dir().iterdir())
    start_asking_as_sam()
    assert requests_in(cycle_named(OPEN_CYCLE)) == 1

    result = runner.invoke(args=["demo", "--reset", "--yes"])

    assert result.exit_code == 0, result.output
    assert "Demo data created." in result.output
    assert requests_in(cycle_named(OPEN_CYCLE)) == 0
    assert cycle_named(OPEN_CYCLE).status == "open"
    assert people() == before
    assert not old_keys & set(keys_dir().iterdir())  # the deleted cycles' keys are gone
    assert sign_in(client, SUBJECT_EMAIL, "demo-password").status_code == 302
    assert "Read your report" in client.get("/").text


def test_reset_asks_first_and_deletes_nothing_when_told_no(runner):
    assert runner.invoke(args=["demo"]).exit_code == 0
    start_asking_as_sam()

    result = runner.invoke(args=["demo", "--reset"], input="n\n")

    assert result.exit_code == 1
    assert "Delete every person, cycle, answer and report in this database" in result.output
    assert requests_in(cycle_named(OPEN_CYCLE)) == 1


def test_reset_refuses_a_database_holding_more_than_the_demo_unless_forced(runner):
    assert runner.invoke(args=["demo"]).exit_code == 0
    jo = ["--name", "Jo Bloggs", "--email", "jo@example.org", "--password", "a long password"]
    assert runner.invoke(args=["people", "add", *jo]).exit_code == 0
    assert runner.invoke(args=["cycle", "create", "Spring 2027"]).exit_code == 0

    refused = runner.invoke(args=["demo", "--reset", "--yes"])

    assert refused.exit_code == 1
    assert "1 person not in the demo; 1 cycle not in the demo" in refused.output
    assert "Nothing was deleted" in refused.output
    assert "--force" in refused.output
    assert person_by_email("jo@example.org") is not None

    forced = runner.invoke(args=["demo", "--reset", "--force", "--yes"])

    assert forced.exit_code == 0, forced.output
    assert person_by_email("jo@example.org") is None
    assert db.session.execute(db.select(Cycle).filter_by(name="Spring 2027")).first() is None
    assert cycle_named(OPEN_CYCLE).status == "open"


def test_reset_of_an_empty_database_creates_the_demo(runner):
    result = runner.invoke(args=["demo", "--reset", "--yes"])

    assert result.exit_code == 0, result.output
    assert cycle_named(FINISHED_CYCLE).status == "released"
