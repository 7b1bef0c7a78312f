"""`feedback360 demo --reset`: what in the database is not the demo's, and emptying it."""

from __future__ import annotations

from collections.abc import Collection
from functools import partial

from sqlalchemy import func

from feedback360.accounts.models import Person
from feedback360.closing import after_commit
from feedback360.cycles.models import Cycle
from feedback360.extensions import db
from feedback360.feedback.sealing import destroy_key
from feedback360.frameworks.models import Framework


def what_is_not_the_demo(
    framework: Framework, emails: Collection[str], cycles: Collection[str]
) -> list[str]:
    """What the database holds beyond the demo's people, cycles and framework, in words:
    empty when a reset would delete only the demo and what was done while trying it."""
    found = []
    people = _count(Person, Person.email.not_in(sorted(emails)))
    if people:
        found.append(f"{people} {'person' if people == 1 else 'people'} not in the demo")
    other_cycles = _count(Cycle, Cycle.name.not_in(sorted(cycles)))
    if other_cycles:
        found.append(f"{other_cycles} cycle{'' if other_cycles == 1 else 's'} not in the demo")
    frameworks = _count(Framework, Framework.id != framework.id)
    if frameworks:
        found.append(f"{frameworks} other framework{'' if frameworks == 1 else 's'}")
    return found


def empty_the_database() -> None:
    """Delete every row of every table, children first; each cycle's answer key goes too
    once the deletion is committed."""
    for key_id in db.session.scalars(db.select(Cycle.answer_key_id)):
        if key_id:
            after_commit(partial(destroy_key, key_id))
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.flush()
    db.session.expunge_all()


def _count(model: type, *where: object) -> int:
    return db.session.scalar(db.select(func.count()).select_from(model).where(*where)) or 0
