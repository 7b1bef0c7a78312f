"""The base of every posted form: each field reads only what a browser's form sends it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, request
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from jinja2 import pass_context
from jinja2.runtime import Context
from werkzeug.datastructures import CombinedMultiDict, MultiDict

from feedback360.errors import DomainError

_POSTED = object()


class Form(FlaskForm):
    """A FlaskForm whose text fields never receive an uploaded file or a JSON value.

    Flask-WTF hands every field the request's uploaded files, and the values of a JSON
    body; a text field given a file or a number fails inside its validators, so a crafted
    post would end in a server error instead of a message.
    """

    def __init__(self, formdata: Any = _POSTED, **kwargs: Any) -> None:
        if formdata is _POSTED:
            formdata = self._posted_form() if self.is_submitted() else None
        super().__init__(formdata=formdata, **kwargs)

    def _posted_form(self) -> MultiDict[str, Any] | None:
        uploads = {
            name
            for name, unbound in self._unbound_fields  # type: ignore[attr-defined]
            if issubclass(unbound.field_class, FileField)
        }
        files = [(name, file) for name, file in request.files.items(multi=True) if name in uploads]
        if files:
            return CombinedMultiDict([MultiDict(files), request.form])
        return request.form or None


@pass_context
def page_has_errors(context: Context) -> bool:
    """Whether the page shows a refusal or a form's errors: base.html then begins its title
    with "Error: ", so the first thing a screen reader says is that something needs fixing.
    A page showing errors of its own making sets `shows_errors`."""
    return bool(context.get("shows_errors")) or any(
        isinstance(value, DomainError) or (isinstance(value, FlaskForm) and bool(value.errors))
        for value in context.get_all().values()
    )


# ---------------------------------------------------------------- posted with an expired token
# How a post whose CSRF token had expired is answered: feedback360/security/expired_forms.py.

KEPT_WHEN_EXPIRED, REQUEST_FLAG = "_kept_when_expired", "form_expired"
EXPIRED = (
    "Your answers are not saved yet, because this page had been open for a long time. Nothing"
    " you entered is lost: check the answers below and choose the button again to save them."
)
View = TypeVar("View", bound=Callable[..., Any])


def kept_when_expired(view: View) -> View:
    """Mark a rating page's view: a post with an expired token shows it again as posted."""
    setattr(view, KEPT_WHEN_EXPIRED, True)
    return view


def form_expired() -> bool:
    """Whether this request is a rating page shown again after its token had expired: its
    saves must then store nothing (feedback/rating_form.py save_page)."""
    return bool(g.get(REQUEST_FLAG))
