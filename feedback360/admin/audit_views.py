"""Administration: the audit log, newest first, a page at a time, filtered by action or actor."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import Select, func
from sqlalchemy.orm import joinedload
from wtforms import IntegerField, SelectField
from wtforms.validators import NumberRange, Optional

from feedback360.accounts.models import Person
from feedback360.admin.blueprint import bp
from feedback360.audit.models import AuditEntry
from feedback360.audit.wording import action_words
from feedback360.cycles.models import Cycle
from feedback360.extensions import db
from feedback360.permissions import admin_required

PER_PAGE = 50
TARGET = {kind: re.compile(kind + r" \d+") for kind in ("person", "cycle")}
ANYONE, SYSTEM = "", "system"


class AuditFilterForm(FlaskForm):
    """Read from the query string: filtering changes nothing, so it needs no CSRF token."""

    class Meta:
        csrf = False

    action = SelectField("Action", choices=[], default=ANYONE)
    actor = SelectField("Done by", choices=[], default=ANYONE)
    page = IntegerField(
        "Page", validators=[Optional(), NumberRange(min=1, message="Pages are numbered from 1.")]
    )


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    number: int
    pages: int
    total: int


def _choices(form: AuditFilterForm) -> None:
    """Offer only the actions and the people that appear in the log."""
    actions = db.session.scalars(
        db.select(AuditEntry.action).distinct().order_by(AuditEntry.action)
    )
    form.action.choices = [(ANYONE, "Any action"), *((a, action_words(a)) for a in actions)]
    actors = db.session.execute(
        db.select(Person.id, Person.name, Person.email)
        .where(Person.id.in_(db.select(AuditEntry.actor_id)))
        .order_by(Person.name, Person.id)
    )
    form.actor.choices = [
        (ANYONE, "Anyone"),
        (SYSTEM, "The system"),
        *((str(pid), f"{name} ({email})") for pid, name, email in actors),
    ]


def _filtered(action: str, actor: str) -> Select[tuple[AuditEntry]]:
    query = db.select(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
    if actor == SYSTEM:
        query = query.where(AuditEntry.actor_id.is_(None))
    elif actor:
        query = query.where(AuditEntry.actor_id == int(actor))
    return query


def audit_page(action: str, actor: str, number: int) -> AuditPage:
    """One page of the entries that match, newest first."""
    query = _filtered(action, actor)
    total = db.session.scalar(db.select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PER_PAGE))
    entries = db.session.scalars(
        query.options(joinedload(AuditEntry.actor))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(PER_PAGE)
        .offset((min(number, pages) - 1) * PER_PAGE)
    ).all()
    return AuditPage(list(entries), min(number, pages), pages, total)


@bp.get("/audit")
@admin_required
def audit_log() -> str:
    form = AuditFilterForm(formdata=request.args)
    _choices(form)
    valid = form.validate() if request.args else True
    # A filter that no longer makes sense (say, an action not in the log) is explained and
    # the whole log shown, rather than an empty page or an error.
    action, actor = (form.action.data or ANYONE, form.actor.data or ANYONE) if valid else ("", "")
    page = audit_page(action, actor, (form.page.data or 1) if valid else 1)
    return render_template(
        "admin/audit_log.html",
        form=form,
        page=page,
        filters=(action, actor),
        action_words=action_words,
        named=_targets_named(page.entries),
    )


def _targets_named(entries: list[AuditEntry]) -> dict[str, tuple[str, str]]:
    """The name and page of each person or cycle the entries target ("person 12", ids only:
    the log outlives an erasure) that still exists, so that the page names them."""
    named = {}
    for kind, model, endpoint in (
        ("person", Person, "admin.person"),
        ("cycle", Cycle, "admin.cycle"),
    ):
        ids = {int(e.target.split()[1]) for e in entries if TARGET[kind].fullmatch(e.target)}
        for found in db.session.scalars(db.select(model).where(model.id.in_(ids))) if ids else []:
            link = url_for(endpoint, **{f"{kind}_id": found.id})
            named[f"{kind} {found.id}"] = (found.name, link)
    return named
