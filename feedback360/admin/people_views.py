"""Administration: people — the list, CSV import, each person's page, and erasure."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from feedback360.accounts import administration, services
from feedback360.accounts.activation import send_password_links
from feedback360.accounts.csv_reading import MAX_BYTES, ImportRefused
from feedback360.accounts.importing import import_people
from feedback360.accounts.models import Person
from feedback360.accounts.people_forms import (
    CoachForm,
    ConfirmForm,
    EraseForm,
    ImportForm,
    RolesForm,
)
from feedback360.actions import commit_or_refuse, run_action, run_form_action
from feedback360.admin.blueprint import bp
from feedback360.erasure import erase_person, erasure_plan
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.permissions import admin_required
from feedback360.wording import counted


def _me() -> Person:
    """The signed-in administrator as a model object (services store it in the audit log)."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


@bp.get("/people")
@admin_required
def people() -> str:
    text = request.args.get("q", "").strip()[:200]
    unit = request.args.get("unit", "").strip()[:200]
    found = services.find_people(text, unit, request.args.get("page", 1, type=int))
    return render_template(
        "admin/people.html", found=found, q=text, unit=unit, units=services.business_units()
    )


@bp.route("/people/import", methods=["GET", "POST"])
@admin_required
def people_import() -> str | tuple[str, int] | WerkzeugResponse:
    form = ImportForm()
    if not form.validate_on_submit():
        return render_template("admin/people_import.html", form=form), 400 if form.errors else 200
    upload = form.file.data
    try:
        outcome = import_people(
            upload.stream.read(MAX_BYTES + 1),
            upload.filename or "",
            full_list=form.full_list.data,
            acting=_me(),
        )
    except ImportRefused as refused:
        db.session.rollback()
        return render_template("admin/people_import.html", form=form, refused=refused), 400
    db.session.commit()
    flash(f"Import complete: {outcome.summary()}.", "info")
    if outcome.ignored_headings:
        flash(f"Columns not used: {', '.join(outcome.ignored_headings)}.", "info")
    if failed := send_password_links(outcome.links):
        flash(
            f"{counted(failed, 'set-password email')} could not be sent; resend them later.",
            "error",
        )
    return redirect(url_for("admin.people_import"))


@bp.get("/people/<int:person_id>")
@admin_required
def person(person_id: int) -> str:
    return _person_page(db.get_or_404(Person, person_id))


def _person_page(person: Person, coach_form: CoachForm | None = None) -> str:
    if coach_form is None:
        coach_form = CoachForm(coach=str(person.coach_id or ""))
        coach_form.set_coaches(_coach_choices(person))
    team = db.session.scalars(db.select(Person).filter_by(line_manager_id=person.id))
    coachees = db.session.scalars(db.select(Person).filter_by(coach_id=person.id))
    return render_template(
        "admin/people_person.html",
        person=person,
        coach_form=coach_form,
        # Never bound to a POST of another form on this page: it shows the stored roles.
        roles_form=RolesForm(formdata=None, admin=person.is_admin, coach=person.is_coach),
        button=ConfirmForm(),
        team=list(team),
        coachees=list(coachees),
    )


def _coach_choices(person: Person) -> list[tuple[int, str]]:
    return [(c.id, f"{c.name} ({c.email})") for c in administration.active_coaches(person)]


def _act(person: Person, action: Callable[[], object], done: str) -> WerkzeugResponse:
    """Run one change to a person, commit it and say so; a refused change says why."""
    run_action(action, done)
    return redirect(url_for("admin.person", person_id=person.id))


@bp.post("/people/<int:person_id>/coach")
@admin_required
def person_coach(person_id: int) -> str | tuple[str, int] | WerkzeugResponse:
    person = db.get_or_404(Person, person_id)
    form = CoachForm()
    form.set_coaches(_coach_choices(person))
    if not form.validate_on_submit():
        return _person_page(person, coach_form=form), 400
    coach = db.session.get(Person, int(form.coach.data)) if form.coach.data else None
    return _act(
        person, partial(administration.assign_coach, person, coach, acting=_me()), "Coach saved."
    )


@bp.post("/people/<int:person_id>/roles")
@admin_required
def person_roles(person_id: int) -> WerkzeugResponse:
    person = db.get_or_404(Person, person_id)
    form = RolesForm()
    if not form.validate_on_submit():
        abort(400)
    change = partial(
        administration.set_roles, person, admin=form.admin.data, coach=form.coach.data, acting=_me()
    )
    return _act(person, change, "Roles saved.")


@bp.post("/people/<int:person_id>/deactivate")
@admin_required
def person_deactivate(person_id: int) -> WerkzeugResponse:
    return _press(person_id, administration.deactivate, "Deactivated: they can no longer sign in.")


@bp.post("/people/<int:person_id>/reactivate")
@admin_required
def person_reactivate(person_id: int) -> WerkzeugResponse:
    return _press(person_id, administration.reactivate, "Reactivated: they can sign in again.")


def _press(person_id: int, change: Callable[..., object], done: str) -> WerkzeugResponse:
    """A button on a person's page: the change, made as this administrator, and said."""
    person = _person_for_button(person_id)
    return _act(person, partial(change, person, acting=_me()), done)


@bp.post("/people/<int:person_id>/second-factor/clear")
@admin_required
def person_second_factor_clear(person_id: int) -> WerkzeugResponse:
    return _press(
        person_id,
        administration.clear_second_factor,
        "Second factor cleared: they set it up again when they next sign in.",
    )


@bp.post("/people/<int:person_id>/password-link")
@admin_required
def person_password_link(person_id: int) -> WerkzeugResponse:
    person = _person_for_button(person_id)
    made = commit_or_refuse(partial(administration.new_password_link, person, acting=_me()))
    if isinstance(made, DomainError):
        flash(made.message, "error")
        return redirect(url_for("admin.person", person_id=person.id))
    token = made.outcome
    if send_password_links([(person, token)]):
        flash("The email could not be sent; please try again later.", "error")
    else:
        flash(f"A link to set a password was sent to {person.email}.", "info")
    return redirect(url_for("admin.person", person_id=person.id))


def _person_for_button(person_id: int) -> Person:
    person = db.get_or_404(Person, person_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return person


@bp.route("/people/<int:person_id>/erase", methods=["GET", "POST"])
@admin_required
def person_erase(person_id: int) -> str | tuple[str, int] | WerkzeugResponse:
    person = db.get_or_404(Person, person_id)
    if person.is_erased:
        return redirect(url_for("admin.person", person_id=person.id))
    form = EraseForm()
    if form.validate_on_submit():
        erase = partial(erase_person, person, form.confirm_email.data or "", acting=_me())
        if run_form_action(form, erase, "The person’s data has been erased."):
            return redirect(url_for("admin.person", person_id=person.id))
    page = render_template(
        "admin/people_erase.html", person=person, form=form, plan=erasure_plan(person)
    )
    return page, 400 if form.errors else 200
