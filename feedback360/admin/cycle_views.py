"""Administration of cycles: settings, the dashboard, opening and closing, reminders,
building and releasing reports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from flask import abort, redirect, render_template, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from feedback360.actions import run_action, run_form_action
from feedback360.admin.blueprint import bp
from feedback360.admin.dashboard import cycle_dashboard
from feedback360.audit.services import record
from feedback360.cycles import services
from feedback360.cycles.forms import RELEASE_MODE_LABELS, ConfirmForm, CycleForm
from feedback360.cycles.models import Cycle
from feedback360.extensions import db
from feedback360.feedback import reminders
from feedback360.feedback.models import FeedbackRequest
from feedback360.feedback.stage import DASHBOARD_STAGES
from feedback360.frameworks.models import Framework
from feedback360.groups import LABELS
from feedback360.mailing.services import retry_failed
from feedback360.permissions import admin_required
from feedback360.reports.background_build import start_build_in_background
from feedback360.reports.build_progress import build_progress
from feedback360.reports.services import release_reports, release_to_coaches
from feedback360.scheduling import close_and_build
from feedback360.timeutil import today
from feedback360.wording import counted


@bp.context_processor
def cycle_labels() -> dict[str, object]:
    """Words for stored settings, for the cycle pages."""
    return {"cycle_labels": {"groups": LABELS, "release_modes": RELEASE_MODE_LABELS}}


@bp.get("/cycles")
@admin_required
def cycles() -> str:
    return render_template("admin/cycles.html", cycles=services.all_cycles())


@bp.route("/cycles/new", methods=["GET", "POST"])
@admin_required
def new_cycle() -> str | WerkzeugResponse | tuple[str, int]:
    frameworks = services.framework_versions()
    form = CycleForm().offer(frameworks)
    if not form.is_submitted():
        form.fill_defaults(frameworks)
    elif form.validate():
        created = run_form_action(
            form,
            partial(_create_cycle, form),
            lambda cycle: f"Cycle “{cycle.name}” created as a draft.",
        )
        if created:
            return redirect(url_for("admin.cycle", cycle_id=created.outcome.id))
    return render_template("admin/cycle_form.html", form=form, cycle=None), (
        400 if form.errors else 200
    )


@bp.route("/cycles/<int:cycle_id>/settings", methods=["GET", "POST"])
@admin_required
def cycle_settings(cycle_id: int) -> str | WerkzeugResponse | tuple[str, int]:
    cycle = db.get_or_404(Cycle, cycle_id)
    form = CycleForm().offer(services.framework_versions())
    if not form.is_submitted():
        form.fill_from(cycle)
    elif form.validate() or not cycle.is_draft:
        if not cycle.is_draft:
            for field in form:  # the form is not shown, only the settings as they stay
                field.errors = []
        if run_form_action(form, partial(_update_cycle, cycle, form), "Settings saved."):
            return redirect(url_for("admin.cycle", cycle_id=cycle.id))
    return render_template("admin/cycle_form.html", form=form, cycle=cycle), (
        400 if form.errors else 200
    )


@bp.get("/cycles/<int:cycle_id>")
@admin_required
def cycle(cycle_id: int) -> str:
    found = db.get_or_404(Cycle, cycle_id)
    return render_template(
        "admin/cycle_dashboard.html",
        cycle=found,
        dashboard=cycle_dashboard(found),
        stages=DASHBOARD_STAGES,
        build=build_progress(found),
        form=ConfirmForm(),
    )


@bp.get("/cycles/<int:cycle_id>/build-status")
@admin_required
def cycle_build_status(cycle_id: int) -> str:
    """The build part of the dashboard alone, which its script fetches to update it in place."""
    found = db.get_or_404(Cycle, cycle_id)
    return render_template(
        "admin/cycle_build.html", cycle=found, build=build_progress(found), form=ConfirmForm()
    )


@dataclass(frozen=True)
class Action:
    """A change that cannot be undone, asked for on a page of its own before it is done."""

    title: str
    explanation: str
    button: str
    done: str
    act: Callable[[Cycle], object]


ACTIONS = {
    "open": Action(
        "Open the cycle",
        "Staff can then ask for feedback. Its settings can no longer be changed.",
        "Open the cycle",
        "The cycle is open.",
        services.open_cycle,
    ),
    "close": Action(
        "Close the cycle",
        "Raters can no longer answer and staff can no longer ask for feedback. The reports "
        "are then built at once, in the background.",
        "Close the cycle",
        "The cycle is closed, and its reports are being built: you can release them as soon "
        "as every one is analysed, while their PDFs are still being made.",
        close_and_build,
    ),
    "release-to-coaches": Action(
        "Release the reports to coaches",
        "Each coach is emailed and can read the reports of the people they coach. "
        "Staff cannot read their reports until you release them to staff.",
        "Release to coaches",
        "The reports are released to coaches.",
        release_to_coaches,
    ),
    "release-to-staff": Action(
        "Release the reports to staff",
        "Each person is emailed and can read their report; their coaches can read it already. "
        "A released report never changes: no late answer can alter it.",
        "Release to staff",
        "The reports are released to staff.",
        release_reports,
    ),
    "release": Action(
        "Release the reports",
        "Each person is emailed and can read their report, and so can their coach. "
        "A released report never changes: no late answer can alter it.",
        "Release the reports",
        "The reports are released.",
        release_reports,
    ),
}


ACTION_NAMES = ",".join(f"'{name}'" for name in ACTIONS)


@bp.route(f"/cycles/<int:cycle_id>/<any({ACTION_NAMES}):action>", methods=["GET", "POST"])
@admin_required
def confirm(cycle_id: int, action: str) -> str | WerkzeugResponse:
    found = db.get_or_404(Cycle, cycle_id)
    chosen, form = ACTIONS[action], ConfirmForm()
    if not form.validate_on_submit():
        return render_template("admin/cycle_confirm.html", cycle=found, action=chosen, form=form)
    run_action(partial(chosen.act, found), chosen.done)
    return redirect(url_for("admin.cycle", cycle_id=cycle_id))


@bp.post("/cycles/<int:cycle_id>/reminders")
@admin_required
def remind_cycle(cycle_id: int) -> WerkzeugResponse:
    found = db.get_or_404(Cycle, cycle_id)
    return _act(found, lambda: _reminded(reminders.remind_cycle(found, today())))


@bp.post("/cycles/<int:cycle_id>/requests/<int:request_id>/reminders")
@admin_required
def remind_request(cycle_id: int, request_id: int) -> WerkzeugResponse:
    found = db.get_or_404(Cycle, cycle_id)
    feedback_request = db.get_or_404(FeedbackRequest, request_id)
    if feedback_request.cycle_id != found.id:
        abort(404)
    return _act(found, lambda: _reminded(reminders.remind_request(feedback_request, today())))


@bp.post("/cycles/<int:cycle_id>/build")
@admin_required
def build_reports(cycle_id: int) -> WerkzeugResponse:
    found = db.get_or_404(Cycle, cycle_id)

    def start() -> str:
        start_build_in_background(found)
        return "The reports are being built. This page shows how far the build has got."

    return _act(found, start)


@bp.post("/cycles/<int:cycle_id>/mail/retry")
@admin_required
def retry_mail(cycle_id: int) -> WerkzeugResponse:
    found = db.get_or_404(Cycle, cycle_id)

    def retry() -> str:
        count = len(retry_failed(found, by_hand=True))
        record("mail.retry", f"cycle {found.id}", counted(count, "message"))
        return f"{counted(count, 'message')} tried again. This page shows any that still failed."

    return _act(found, retry)


def _act(cycle: Cycle, action: Callable[[], str]) -> WerkzeugResponse:
    """Check the CSRF token, act, commit and say what happened on the dashboard."""
    if not ConfirmForm().validate_on_submit():
        abort(400, "The form had expired. Please go back, reload the page and try again.")
    run_action(action, lambda message: message)
    return redirect(url_for("admin.cycle", cycle_id=cycle.id))


def _reminded(count: int) -> str:
    if count == 0:
        return "Nobody to remind: every rater has answered or was reminded today."
    return f"{counted(count, 'reminder')} sent."


def _framework(form: CycleForm) -> Framework:
    return db.get_or_404(Framework, form.framework_id.data)


def _create_cycle(form: CycleForm) -> Cycle:
    return services.create_cycle(**vars(form.settings(_framework(form))))


def _update_cycle(cycle: Cycle, form: CycleForm) -> None:
    services.check_editable(cycle)
    services.update_cycle(cycle, form.settings(_framework(form)))
