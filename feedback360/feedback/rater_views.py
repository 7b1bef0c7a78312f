"""The rater's pages, reached by a personal link: no account needed."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from feedback360.extensions import db
from feedback360.feedback import services
from feedback360.feedback.answers import Answers
from feedback360.feedback.models import DECLINED, SUBMITTED, Invitation
from feedback360.feedback.rating_form import save_or_submit

bp = Blueprint("rater", __name__, url_prefix="/r")


def _link_problem(invitation: Invitation | None) -> tuple[str, int] | None:
    """A clear page for a link that cannot be used, or None when it can."""
    if invitation is None:
        return render_template("rater/link_problem.html", reason="unknown"), 404
    if invitation.status in (SUBMITTED, DECLINED):
        return render_template("rater/link_problem.html", reason=invitation.status), 410
    if not invitation.request.cycle.is_open:
        return render_template(
            "rater/link_problem.html", reason="closed", invitation=invitation
        ), 410
    return None


@bp.get("/<token>")
def start(token: str) -> str | tuple[str, int]:
    invitation = services.invitation_for_token(token)
    problem = _link_problem(invitation)
    if problem or invitation is None:
        return problem or ("", 404)
    framework = invitation.request.cycle.framework
    invitation.mark_opened()
    db.session.commit()
    return render_template(
        "rater/start.html",
        invitation=invitation,
        token=token,
        minutes=framework.minutes_to_rate,
        statements=len(framework.statements),
        has_draft=bool(invitation.draft),
    )


@bp.route("/<token>/form", methods=["GET", "POST"])
def form(token: str) -> str | tuple[str, int] | WerkzeugResponse:
    invitation = services.invitation_for_token(token)
    problem = _link_problem(invitation)
    if problem or invitation is None:
        return problem or ("", 404)
    framework = invitation.request.cycle.framework
    answers, error = Answers.from_draft(invitation.draft), None
    if request.method == "POST":
        posted = save_or_submit(
            framework,
            request.form,
            save=partial(services.save_rater_draft, invitation),
            submit=partial(services.submit_rater_response, invitation),
        )
        if posted.error is None:
            if posted.submitted:
                return redirect(url_for("rater.thanks"))
            return redirect(url_for("rater.form", token=token, saved=1))
        answers, error = posted.answers, posted.error
    return render_template(
        "feedback/rating_form.html",
        framework=framework,
        answers=answers,
        error=error,
        about_self=False,
        subject=invitation.request.subject,
        done=False,
        saved=request.args.get("saved") == "1",
        back_url=url_for("rater.start", token=token),
        decline_url=url_for("rater.decline", token=token),
    ), (400 if error else 200)


@bp.route("/<token>/decline", methods=["GET", "POST"])
def decline(token: str) -> str | tuple[str, int] | WerkzeugResponse:
    invitation = services.invitation_for_token(token)
    problem = _link_problem(invitation)
    if problem or invitation is None:
        return problem or ("", 404)
    if request.method == "POST":
        services.decline(invitation)
        db.session.commit()
        return redirect(url_for("rater.declined"))
    return render_template("rater/decline.html", invitation=invitation, token=token)


@bp.get("/thanks")
def thanks() -> str:
    return render_template("rater/done.html", declined=False)


@bp.get("/declined")
def declined() -> str:
    return render_template("rater/done.html", declined=True)
