"""Administration: people — the list, CSV import and its jobs, each person's page, erasure."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from feedback360.accounts import administration, services
from feedback360.accounts.activation import send_password_links
from feedback360.accounts.csv_reading import MAX_BYTES, ImportRefused
from feedback360.accounts.import_jobs import (
    ImportUnderWay,
    create_import_job,
    discard,
    mail_progress,
    start_again,
)
from feedback360.accounts.models import REFUSED, ImportJob, Person
from feedback360.accounts.people_forms import (
    CoachForm,
    ConfirmForm,
    EraseForm,
    ImportForm,
    RolesForm,
)
from feedback360.actions import commit_or_refuse, run_action, run_form_action
from feedback360.admin.blueprint import bp
from feedback360.admin.import_worker import start_import_worker
from feedback360.erasure import erase_person, erasure_plan
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.permissions import admin_required


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
    data, filename = upload.stream.read(MAX_BYTES + 1), upload.filename or ""
    made = commit_or_refuse(
        partial(create_import_job, data, filename, full_list=form.full_list.data, acting=_me())
    )
    if isinstance(made, ImportRefused):
        return render_template("admin/people_import.html", form=form, refused=made), 400
    if isinstance(made, ImportUnderWay):
        flash(made.message, "error")
        return redirect(url_for("admin.people_import_job", job_id=made.job.id))
    if isinstance(made, DomainError):
        flash(made.message, "error")
        return redirect(url_for("admin.people_import"))
    start_import_worker(made.outcome.id)
    return redirect(url_for("admin.people_import_job", job_id=made.outcome.id))


@bp.get("/people/import/<int:job_id>")
@admin_required
def people_import_job(job_id: int) -> str:
    return render_template("admin/people_import_job.html", **_job_page(job_id))


@bp.get("/people/import/<int:job_id>/status")
@admin_required
def people_import_job_status(job_id: int) -> str:
    """The job's part of its page alone, which the page's script fetches to update it."""
    return render_template("admin/people_import_job_status.html", **_job_page(job_id))


def _job_page(job_id: int) -> dict[str, object]:
    job = db.get_or_404(ImportJob, job_id)
    refused = ImportRefused(job.problems) if job.state == REFUSED else None
    return {"job": job, "mail": mail_progress(job), "refused": refused, "button": ConfirmForm()}


@bp.post("/people/import/<int:job_id>/start-again")
@admin_required
def people_import_job_start_again(job_id: int) -> WerkzeugResponse:
    job = db.get_or_404(ImportJob, job_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if run_action(partial(start_again, job), "The import has started again."):
        start_import_worker(job.id)
    return redirect(url_for("admin.people_import_job", job_id=job.id))


@bp.post("/people/import/<int:job_id>/discard")
@admin_required
def people_import_job_discard(job_id: int) -> WerkzeugResponse:
    job = db.get_or_404(ImportJob, job_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    run_action(partial(discard, job), "The import was discarded and its file deleted.")
    return redirect(url_for("admin.people_import_job", job_id=job.id))


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
