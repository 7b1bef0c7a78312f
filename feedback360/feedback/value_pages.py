"""The value-by-value pages and the summary, one flow for raters and for the self-assessment.

The caller says whose answers these are (`draft`, `save` or `submit`), who they are about
and where its pages live (`links`: value_url(n), summary_url, all_url, back_url, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, redirect, render_template, request
from flask.typing import ResponseReturnValue

from feedback360.accounts.models import Person
from feedback360.feedback.answers import MAX_COMMENT, Answers, not_seen_words
from feedback360.feedback.rating_form import (
    autosave_reply,
    page_after,
    progress_by_value,
    save_or_submit,
    save_page,
    value_at,
    with_page,
)
from feedback360.forms import form_expired
from feedback360.frameworks.snapshots import FrameworkSnapshot


def _rating_words(about_self: bool, comments_named_as_manager: bool) -> dict[str, Any]:
    """What every rating page says the same way: the "na" choice, the comment's limit and
    how the report will label the comments."""
    return {
        "not_seen_label": not_seen_words(about_self),
        "comment_limit": MAX_COMMENT,
        "comments_named_as_manager": comments_named_as_manager,
    }


def value_page(
    framework: FrameworkSnapshot,
    number: int,
    draft: dict[str, Any] | None,
    save: Callable[[Answers], None],
    *,
    about_self: bool,
    subject: Person,
    links: dict[str, Any],
    comments_named_as_manager: bool = False,
) -> ResponseReturnValue:
    """Show value `number`; a POST saves its answers, then moves as the button says."""
    value = value_at(framework, number)
    if value is None:
        abort(404)
    answers, error = Answers.from_draft(draft), None
    if request.method == "POST":
        answers = with_page(framework, answers, value, request.form)
        error = save_page(save, answers)
        if request.form.get("action") == "autosave":
            return autosave_reply(error)
        if error is None:
            target = page_after(request.form.get("action", "save"), number, len(framework.values))
            if target is None:
                return redirect(links["summary_url"])
            return redirect(f"{links['value_url'](target)}?saved=1")
    return render_template(
        "feedback/value_page.html",
        framework=framework,
        value=value,
        number=number,
        answers=answers,
        progress=progress_by_value(framework, answers),
        error=error,
        about_self=about_self,
        subject=subject,
        **_rating_words(about_self, comments_named_as_manager),
        saved=request.args.get("saved") == "1",
        check=request.args.get("check") == "1",
        **links,
    ), (400 if error else 200)


def summary_page(
    framework: FrameworkSnapshot,
    draft: dict[str, Any] | None,
    submit: Callable[[Answers], None],
    done: Callable[[], ResponseReturnValue],
    *,
    about_self: bool,
    subject: Person,
    links: dict[str, Any],
    comments_named_as_manager: bool = False,
) -> ResponseReturnValue:
    """Every value's answers at a glance; the submit button sends them all."""
    answers, error = Answers.from_draft(draft), None
    # A post with an expired token is refused as a submit is, saying why (expired_forms).
    if request.method == "POST" and (request.form.get("action") == "submit" or form_expired()):
        error = save_page(submit, answers)
        if error is None:
            return done()
    return render_template(
        "feedback/rating_summary.html",
        framework=framework,
        progress=progress_by_value(framework, answers),
        error=error,
        about_self=about_self,
        subject=subject,
        **_rating_words(about_self, comments_named_as_manager),
        **links,
    ), (400 if error else 200)


def whole_form_page(
    framework: FrameworkSnapshot,
    draft: dict[str, Any] | None,
    save: Callable[[Answers], None],
    submit: Callable[[Answers], None],
    after: Callable[[bool], ResponseReturnValue],
    *,
    about_self: bool,
    subject: Person,
    done: bool,
    links: dict[str, Any],
    comments_named_as_manager: bool = False,
) -> ResponseReturnValue:
    """Every statement on one page (for those who prefer it, or have no JavaScript); a POST
    saves or submits, then `after(submitted)` says where to go."""
    answers, error = Answers.from_draft(draft), None
    if request.method == "POST":
        posted = save_or_submit(framework, request.form, save=save, submit=submit)
        if posted.error is None:
            return after(posted.submitted)
        answers, error = posted.answers, posted.error
    return render_template(
        "feedback/rating_form.html",
        framework=framework,
        answers=answers,
        error=error,
        about_self=about_self,
        subject=subject,
        **_rating_words(about_self, comments_named_as_manager),
        done=done,
        saved=request.args.get("saved") == "1",
        **links,
    ), (400 if error else 200)
