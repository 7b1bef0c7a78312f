"""The rater's pages, reached by a personal link: no account needed."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response as WerkzeugResponse

from feedback360.extensions import db
from feedback360.feedback import services, value_pages
from feedback360.feedback.answers import Answers
from feedback360.feedback.models import DECLINED, SUBMITTED, Invitation
from feedback360.feedback.rating_form import (
    first_unfinished,
    progress_by_value,
)
from feedback360.feedback.sealing import AnswersUnreadable
from feedback360.forms import kept_when_expired
from feedback360.frameworks.snapshots import FrameworkSnapshot, snapshot_of
from feedback360.sqlite import writes

bp = Blueprint("rater", __name__, url_prefix="/r")


def _usable_invitation(token: str) -> Invitation:
    """The invitation behind a link; a link that cannot be used ends in a clear page."""
    invitation = services.invitation_for_token(token, for_update=request.method == "POST")
    if invitation is None:
        reason, status = "unknown", 404
    elif invitation.status in (SUBMITTED, DECLINED):
        reason, status = invitation.status, 410
    elif not invitation.request.cycle.is_open:
        reason, status = "closed", 410
    else:
        return invitation
    page = render_template("rater/link_problem.html", reason=reason, invitation=invitation)
    abort(make_response(page, status))


def _framework(invitation: Invitation) -> FrameworkSnapshot:
    return snapshot_of(invitation.request.cycle.framework)


@bp.get("/<token>")
@writes
def start(token: str) -> str:
    invitation = _usable_invitation(token)
    framework = _framework(invitation)
    progress = progress_by_value(framework, Answers.from_draft(services.rater_draft(invitation)))
    page = render_template(
        "rater/start.html",
        invitation=invitation,
        token=token,
        minutes=framework.minutes_to_rate,
        statements=len(framework.statements),
        has_draft=invitation.sealed_answers is not None,
        answered=sum(row.answered for row in progress),
        carry_on=first_unfinished(progress),
    )
    # After the page is made: a commit expires every row loaded, which it would load again.
    services.note_link_opened(invitation)
    db.session.commit()
    return page


def _links(token: str) -> dict[str, object]:
    """Where the value pages, the summary and the whole form live for this link."""
    return {
        "value_url": lambda number: url_for("rater.value_page", token=token, number=number),
        "summary_url": url_for("rater.summary", token=token),
        "all_url": url_for("rater.form", token=token),
        "back_url": url_for("rater.start", token=token),
        "decline_url": url_for("rater.decline", token=token),
    }


def _as_rater(invitation: Invitation, token: str) -> dict[str, Any]:
    """What every rating page of this link is told: who it is about, and where it leads."""
    cycle = invitation.request.cycle
    return {
        "about_self": False,
        "subject": invitation.request.subject,
        "links": _links(token),
        # An identifiable line manager's comments carry their role, not a pooled label.
        "comments_named_as_manager": invitation.is_line_manager and cycle.manager_identifiable,
    }


@bp.route("/<token>/values/<int:number>", methods=["GET", "POST"])
@kept_when_expired
def value_page(token: str, number: int) -> ResponseReturnValue:
    invitation = _usable_invitation(token)
    return value_pages.value_page(
        _framework(invitation),
        number,
        services.rater_draft(invitation),
        partial(services.save_rater_draft, invitation),
        **_as_rater(invitation, token),
    )


@bp.route("/<token>/summary", methods=["GET", "POST"])
@kept_when_expired
def summary(token: str) -> ResponseReturnValue:
    invitation = _usable_invitation(token)
    return value_pages.summary_page(
        _framework(invitation),
        services.rater_draft(invitation),
        partial(services.submit_rater_response, invitation),
        lambda: redirect(url_for("rater.thanks")),
        **_as_rater(invitation, token),
    )


@bp.route("/<token>/form", methods=["GET", "POST"])
@kept_when_expired
def form(token: str) -> ResponseReturnValue:
    invitation = _usable_invitation(token)

    def after(submitted: bool) -> WerkzeugResponse:
        if submitted:
            return redirect(url_for("rater.thanks"))
        return redirect(url_for("rater.form", token=token, saved=1))

    return value_pages.whole_form_page(
        _framework(invitation),
        services.rater_draft(invitation),
        partial(services.save_rater_draft, invitation),
        partial(services.submit_rater_response, invitation),
        after,
        done=False,
        **_as_rater(invitation, token),
    )


@bp.route("/<token>/decline", methods=["GET", "POST"])
def decline(token: str) -> str | tuple[str, int] | WerkzeugResponse:
    invitation = _usable_invitation(token)
    if request.method == "POST":
        services.decline(invitation)
        db.session.commit()
        return redirect(url_for("rater.declined"))
    return render_template("rater/decline.html", invitation=invitation, token=token)


@bp.errorhandler(AnswersUnreadable)
def unreadable(error: AnswersUnreadable) -> tuple[str, int]:
    """A lost answer key is the server's fault: say so plainly, never as a crash."""
    page = render_template("error.html", title="Your answers cannot be read", message=str(error))
    return page, 503


@bp.get("/thanks")
def thanks() -> str:
    return render_template("rater/done.html", declined=False)


@bp.get("/declined")
def declined() -> str:
    return render_template("rater/done.html", declined=True)
