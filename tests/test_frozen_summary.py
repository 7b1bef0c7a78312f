"""Issue 13, point 5: the organisation summary is worked out once, at the close, and kept.

Worked out afresh at each view, it changed when a re-import moved one person to another
unit, or when one subject was erased, and the difference between two views gave that
person's own ratings. Now each subject counts in the unit and staff type they had at the
close, and no later change of people moves a figure.
"""

from __future__ import annotations

from feedback360.accounts.models import Person
from feedback360.closing import close_cycle
from feedback360.extensions import db
from feedback360.reports.models import OrganisationSummary
from tests.conftest import submit_form
from tests.test_organisation_page import (
    ACADEMY,
    OFFICER,
    PEOPLE,
    TERRITORIAL,
    run_cycle,
    staff_member,
    take_part,
)
from tests.test_people_import import HEADER, upload

VIEWS = ("business_unit", "staff_type")


def figures(admin, cycle_id: int) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """What an administrator downloads: each view's summary as CSV."""
    return {
        view: admin.get(f"/admin/cycles/{cycle_id}/organisation.csv?by={view}").text
        for view in VIEWS
    }


def test_a_re_import_that_moves_a_person_changes_no_figure(admin, framework):
    cycle = run_cycle(framework, PEOPLE)
    before = figures(admin, cycle.id)
    assert "Territorial Policing" in before["business_unit"]
    mover = db.session.scalars(db.select(Person).filter_by(business_unit=TERRITORIAL)).first()

    moved = upload(admin, HEADER + f"{mover.name},{mover.email},{OFFICER},{ACADEMY},,,\n")

    assert moved.status_code in (200, 302), moved.text
    db.session.refresh(mover)
    assert mover.business_unit == ACADEMY  # the import did move them
    assert figures(admin, cycle.id) == before


def test_erasing_a_subject_changes_no_figure(admin, framework):
    cycle = run_cycle(framework, PEOPLE)
    before = figures(admin, cycle.id)
    subject = db.session.scalars(db.select(Person).filter_by(business_unit=TERRITORIAL)).first()

    erased = submit_form(
        admin, f"/admin/people/{subject.id}/erase", {"confirm_email": subject.email}
    )

    assert erased.status_code == 302, erased.text
    db.session.refresh(subject)
    assert subject.is_erased
    assert figures(admin, cycle.id) == before


def test_the_summary_is_kept_at_the_close_with_units_as_they_were_then(admin, framework):
    cycle = run_cycle(framework, PEOPLE)
    kept = db.session.get(OrganisationSummary, cycle.id)
    assert kept is not None  # the close kept it; nothing is worked out when it is viewed
    made_at = kept.made_at
    figures(admin, cycle.id)
    db.session.refresh(kept)
    assert kept.made_at == made_at


def test_a_cycle_closed_later_uses_the_units_people_have_then(admin, framework, open_cycle):
    """The freeze is at the close, not at the start of the cycle."""
    cycle = open_cycle("Summer 2026", threshold=3, min_raters=3)
    people = []
    for number in range(6):
        person = staff_member(f"Member {number}", TERRITORIAL, OFFICER)
        take_part(cycle, person, raters_score=4, own_score=5)
        people.append(person)
    for person in people[:3]:
        person.business_unit = ACADEMY  # moved while the cycle was open
    close_cycle(cycle)
    db.session.commit()

    by_unit = figures(admin, cycle.id)["business_unit"]

    assert ACADEMY in by_unit
