"""`feedback360 demo`: people, a finished cycle with a released report, and an open cycle."""

from __future__ import annotations

import random

import click

from feedback360.accounts.services import add_person, person_by_email
from feedback360.closing import close_cycle
from feedback360.commands import domain_command
from feedback360.cycles.models import Cycle
from feedback360.cycles.services import create_cycle
from feedback360.extensions import db
from feedback360.feedback import services as feedback
from feedback360.feedback.answers import Answers
from feedback360.frameworks.models import Framework
from feedback360.frameworks.services import bundled_framework, load_framework, read_framework_file
from feedback360.reports.building import build_cycle_reports
from feedback360.reports.services import release_reports

DEMO_PASSWORD = "demo-password"  # noqa: S105 (published in the README for the demo)
SUBJECT_EMAIL = "sam.taylor@example.org"
FINISHED_CYCLE = "Demo cycle 2026"
OPEN_CYCLE = "Autumn 2026"

RATERS = [  # name, email, group
    ("Alex Morgan", "alex.morgan@example.org", "line_manager"),
    ("Priya Shah", "priya.shah@example.org", "peer"),
    ("Tom Okafor", "tom.okafor@example.org", "peer"),
    ("Jess Walker", "jess.walker@example.org", "peer"),
    ("Dan Hughes", "dan.hughes@example.org", "peer"),
    ("Mia Clarke", "mia.clarke@example.org", "direct_report"),
    ("Leo Brennan", "leo.brennan@example.org", "direct_report"),
    ("Ava Patel", "ava.patel@example.org", "direct_report"),
    ("Ruth Ellis", "ruth.ellis@example.org", "other"),
]
# How often each value's behaviours are seen, on average, by raters and by Sam (1–5).
RATER_LEVEL = [4.2, 3.4, 4.0, 3.1]
SELF_LEVEL = [4.0, 4.5, 3.5, 3.0]
COMMENTS = [
    (0, "Sam always makes time to get the details right for victims, even on busy shifts."),
    (1, "Team briefings would land better with more face-to-face time and fewer emails."),
    (1, "I would like Sam to ask for our views before decisions are made, not after."),
    (2, "Brings people from different units together and gives credit where it is due."),
    (3, "Encourages us to try new ideas, but we rarely look back at what worked."),
]


@click.command(help="Create demo people, a released report and an open cycle (run once).")
@domain_command
def demo() -> None:
    framework, _ = load_framework(read_framework_file(bundled_framework("mps-2006")))
    if db.session.execute(db.select(Cycle).filter_by(name=FINISHED_CYCLE)).first() is None:
        _create_people()
        _create_finished_cycle(framework)
        create_cycle(OPEN_CYCLE, framework).open()
        click.echo("Demo data created.")
    else:
        click.echo("Demo data is already there.")
    click.echo(
        f"Sign in as {SUBJECT_EMAIL} (staff member with a released report), "
        f"coach@example.org (Sam's coach) or admin@example.org, password “{DEMO_PASSWORD}”."
    )


def _create_people() -> None:
    manager = add_person(
        "Alex Morgan",
        "alex.morgan@example.org",
        password=DEMO_PASSWORD,
        staff_type="Police officer",
        business_unit="Leadership Academy",
    )
    sam = add_person(
        "Sam Taylor",
        SUBJECT_EMAIL,
        password=DEMO_PASSWORD,
        staff_type="Police staff",
        business_unit="Leadership Academy",
        line_manager=manager,
    )
    for name, email, _ in RATERS[1:]:  # colleagues on the staff list (Alex is above)
        add_person(name, email, staff_type="Police officer", business_unit="Territorial Policing")
    add_person("Chris Adeyemi", "admin@example.org", password=DEMO_PASSWORD, is_admin=True)
    sam.coach = add_person(
        "Nadia Kowalski", "coach@example.org", password=DEMO_PASSWORD, is_coach=True
    )


def _answers(framework: Framework, levels: list[float], rng: random.Random) -> Answers:
    answers = Answers()
    for index, value in enumerate(framework.values):
        for statement in value.statements:
            if rng.random() < 0.08:
                answers.ratings[statement.id] = None  # not seen
                continue
            level = levels[index] if statement.positive else 6 - levels[index] - 0.4
            score = round(level + rng.gauss(0, 0.7))
            answers.ratings[statement.id] = min(5, max(1, score))
    return answers


def _create_finished_cycle(framework: Framework) -> None:
    rng = random.Random(2006)  # noqa: S311 (repeatable demo answers, not a secret)
    cycle = create_cycle(FINISHED_CYCLE, framework)
    cycle.open()
    subject = person_by_email(SUBJECT_EMAIL)
    assert subject is not None  # noqa: S101 (created just above)
    feedback_request = feedback.start_request(cycle, subject)
    feedback.submit_self_assessment(feedback_request, _answers(framework, SELF_LEVEL, rng))
    for name, email, group in RATERS:
        feedback.nominate(feedback_request, name, email, group)
    feedback.send_invitations(feedback_request)
    for number, invitation in enumerate(feedback_request.invitations):
        answers = _answers(framework, RATER_LEVEL, rng)
        for value_index, text in COMMENTS[number :: len(RATERS)]:
            answers.comments[framework.values[value_index].id] = text
        feedback.submit_rater_response(invitation, answers)
    close_cycle(cycle)
    build_cycle_reports(cycle)
    release_reports(cycle)
