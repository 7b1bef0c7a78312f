"""`feedback360 demo`: people, a finished cycle with released reports, and an open cycle."""

from __future__ import annotations

import random

import click

from feedback360.accounts.models import Person
from feedback360.accounts.services import add_person, person_by_email
from feedback360.cli.demo_reset import empty_the_database, what_is_not_the_demo
from feedback360.closing import close_cycle
from feedback360.commands import domain_command
from feedback360.cycles.models import Cycle
from feedback360.cycles.services import create_cycle
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.feedback import services as feedback
from feedback360.feedback.answers import Answers
from feedback360.frameworks.models import Framework
from feedback360.frameworks.services import bundled_framework, load_framework, read_framework_file
from feedback360.groups import DIRECT_REPORT, LINE_MANAGER, OTHER, PEER
from feedback360.reports.building import build_cycle_reports
from feedback360.reports.services import release_reports

DEMO_PASSWORD = "demo-password"  # noqa: S105 (published in the README for the demo)
SUBJECT_EMAIL = "sam.taylor@example.org"
ADMIN_EMAIL = "admin@example.org"
COACH_EMAIL = "coach@example.org"
FINISHED_CYCLE = "Demo cycle 2026"
OPEN_CYCLE = "Autumn 2026"
DEMO_CYCLES = (FINISHED_CYCLE, OPEN_CYCLE)

ACADEMY, POLICING = "Leadership Academy", "Territorial Policing"
OFFICER, STAFF = "Police officer", "Police staff"
# Name, email, staff type, business unit, line manager's email. Sam's unit has colleagues
# to suggest as raters in the open cycle, three of them Sam's direct reports.
PEOPLE = [
    ("Alex Morgan", "alex.morgan@example.org", OFFICER, ACADEMY, None),
    ("Sam Taylor", SUBJECT_EMAIL, STAFF, ACADEMY, "alex.morgan@example.org"),
    ("Priya Shah", "priya.shah@example.org", STAFF, ACADEMY, "alex.morgan@example.org"),
    ("Tom Okafor", "tom.okafor@example.org", STAFF, ACADEMY, "alex.morgan@example.org"),
    ("Jess Walker", "jess.walker@example.org", OFFICER, ACADEMY, "alex.morgan@example.org"),
    ("Dan Hughes", "dan.hughes@example.org", OFFICER, ACADEMY, "alex.morgan@example.org"),
    ("Mia Clarke", "mia.clarke@example.org", STAFF, ACADEMY, SUBJECT_EMAIL),
    ("Leo Brennan", "leo.brennan@example.org", STAFF, ACADEMY, SUBJECT_EMAIL),
    ("Ava Patel", "ava.patel@example.org", STAFF, ACADEMY, SUBJECT_EMAIL),
    ("Owen Price", "owen.price@example.org", OFFICER, POLICING, None),
    ("Ruth Ellis", "ruth.ellis@example.org", OFFICER, POLICING, "owen.price@example.org"),
    ("Grace Lee", "grace.lee@example.org", OFFICER, POLICING, "owen.price@example.org"),
    ("Kemi Adebayo", "kemi.adebayo@example.org", OFFICER, POLICING, "owen.price@example.org"),
]
SIGNING_IN = ("alex.morgan@example.org", SUBJECT_EMAIL)  # the others only rate
DEMO_EMAILS = frozenset([email for _, email, *_ in PEOPLE] + [ADMIN_EMAIL, COACH_EMAIL])
# Who asked for feedback in the finished cycle: three police staff in one unit and three
# officers in the other, so that the organisation summary, which hides what fewer than
# three people would reveal (rule 9), shows figures in both views. Every report takes most
# of a second to build, so no more than that.
SUBJECTS = [
    SUBJECT_EMAIL,
    "priya.shah@example.org",
    "tom.okafor@example.org",
    "owen.price@example.org",
    "ruth.ellis@example.org",
    "grace.lee@example.org",
]
SAM_RATERS = [  # email, group
    ("alex.morgan@example.org", LINE_MANAGER),
    ("priya.shah@example.org", PEER),
    ("tom.okafor@example.org", PEER),
    ("jess.walker@example.org", PEER),
    ("dan.hughes@example.org", PEER),
    ("mia.clarke@example.org", DIRECT_REPORT),
    ("leo.brennan@example.org", DIRECT_REPORT),
    ("ava.patel@example.org", DIRECT_REPORT),
    ("ruth.ellis@example.org", OTHER),
]
RATERS_EACH = 6  # for everyone but Sam: enough for the cycle's minimum of five
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


@click.command(help="Create demo people, released reports and an open cycle (run once).")
@click.option(
    "--reset",
    is_flag=True,
    help="Empty the database and create the demo again, with its open cycle.",
)
@click.option("--yes", is_flag=True, help="With --reset: do not ask before deleting.")
@click.option(
    "--force",
    is_flag=True,
    help="With --reset: also when the database holds more than the demo (deletes it all).",
)
@domain_command
def demo(reset: bool, yes: bool, force: bool) -> None:
    framework, _ = load_framework(read_framework_file(bundled_framework("mps-2006")))
    if reset:
        _confirm_reset(what_is_not_the_demo(framework, DEMO_EMAILS, DEMO_CYCLES), yes, force)
        empty_the_database()
        framework, _ = load_framework(read_framework_file(bundled_framework("mps-2006")))
    if db.session.execute(db.select(Cycle).filter_by(name=FINISHED_CYCLE)).first() is None:
        _create_people()
        _create_finished_cycle(framework)
        create_cycle(OPEN_CYCLE, framework).open()
        click.echo("Demo data created.")
    else:
        click.echo("Demo data is already there. `feedback360 demo --reset` starts it again.")
    click.echo(
        f"Sign in as {SUBJECT_EMAIL} (staff member with a released report), "
        f"{COACH_EMAIL} (Sam's coach) or {ADMIN_EMAIL}, password “{DEMO_PASSWORD}”."
    )


def _confirm_reset(not_the_demo: list[str], yes: bool, force: bool) -> None:
    """Refuse to delete more than the demo unless forced; ask first unless told yes."""
    if not_the_demo and not force:
        raise DomainError(
            f"This database holds more than the demo ({'; '.join(not_the_demo)}), and "
            "--reset deletes everything in it. Nothing was deleted. To delete it all "
            "anyway, add --force (`feedback360 backup FILE` keeps a copy first)."
        )
    also = f", including {'; '.join(not_the_demo)}" if not_the_demo else ""
    if not yes:
        click.confirm(
            f"Delete every person, cycle, answer and report in this database{also}, "
            "and create the demo again?",
            abort=True,
        )


def _create_people() -> None:
    people: dict[str, Person] = {}
    for name, email, staff_type, unit, manager in PEOPLE:
        people[email] = add_person(
            name,
            email,
            password=DEMO_PASSWORD if email in SIGNING_IN else None,
            staff_type=staff_type,
            business_unit=unit,
            line_manager=people[manager] if manager else None,
        )
    add_person("Chris Adeyemi", ADMIN_EMAIL, password=DEMO_PASSWORD, is_admin=True)
    people[SUBJECT_EMAIL].coach = add_person(
        "Nadia Kowalski", COACH_EMAIL, password=DEMO_PASSWORD, is_coach=True
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


def _raters_of(subject: Person) -> list[tuple[Person, str]]:
    """Sam's chosen raters; anyone else's: their manager, their unit, then people elsewhere."""
    if subject.email == SUBJECT_EMAIL:
        return [(_person(email), group) for email, group in SAM_RATERS]
    others = db.session.scalars(
        db.select(Person)
        .where(Person.email.in_(sorted(DEMO_EMAILS)), Person.id != subject.id)
        .where(Person.business_unit.is_not(None))
        .order_by(Person.business_unit != subject.business_unit, Person.id)
    )
    raters = []
    for person in others:
        if person.id == subject.line_manager_id:
            group = LINE_MANAGER
        elif person.line_manager_id == subject.id:
            group = DIRECT_REPORT
        else:
            group = PEER if person.business_unit == subject.business_unit else OTHER
        raters.append((person, group))
    return raters[:RATERS_EACH]


def _person(email: str) -> Person:
    person = person_by_email(email)
    assert person is not None  # noqa: S101 (created by _create_people)
    return person


def _create_finished_cycle(framework: Framework) -> None:
    rng = random.Random(2006)  # noqa: S311 (repeatable demo answers, not a secret)
    cycle = create_cycle(FINISHED_CYCLE, framework)
    cycle.open()
    for email in SUBJECTS:
        subject = _person(email)
        feedback_request = feedback.start_request(cycle, subject)
        level = [0.0] * 4 if email == SUBJECT_EMAIL else [rng.uniform(-0.6, 0.6)] * 4
        own = _answers(framework, [a + b for a, b in zip(SELF_LEVEL, level, strict=True)], rng)
        feedback.submit_self_assessment(feedback_request, own)
        for rater, group in _raters_of(subject):
            feedback.nominate(feedback_request, rater.name, rater.email, group)
        feedback.send_invitations(feedback_request)
        seen = [a + b for a, b in zip(RATER_LEVEL, level, strict=True)]
        for number, invitation in enumerate(feedback_request.invitations):
            answers = _answers(framework, seen, rng)
            if email == SUBJECT_EMAIL:
                for value_index, text in COMMENTS[number :: len(SAM_RATERS)]:
                    answers.comments[framework.values[value_index].id] = text
            feedback.submit_rater_response(invitation, answers)
    close_cycle(cycle)
    build_cycle_reports(cycle)
    release_reports(cycle)
