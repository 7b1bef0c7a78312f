"""One rater's saves arriving together (an autosave still on its way when Next is pressed,
two tabs open) are all kept, through a real threaded server."""

from __future__ import annotations

import threading
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

import pytest
from flask import Flask
from sqlalchemy.exc import IntegrityError

from feedback360.extensions import db
from feedback360.feedback.models import SUBMITTED, FeedbackRequest, Invitation, Response
from feedback360.feedback.services import rater_draft
from feedback360.frameworks.models import Framework
from feedback360.sqlite import whole_transactions
from tests.conftest import PASSWORD, csrf_token, serving


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


class Browser:
    """A cookie-keeping HTTP client that reports redirects instead of following them."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar()), NoRedirect()
        )

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=60) as response:
            return response.read().decode()

    def post(self, path: str, data: dict[str, str]) -> int:
        body = urllib.parse.urlencode(data).encode()
        try:
            with self.opener.open(self.base + path, body, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code


def post_together(browser: Browser, posts: list[tuple[str, dict[str, str]]]) -> list[int]:
    """Send the posts at the same moment, each from its own thread; their statuses."""
    barrier = threading.Barrier(len(posts))
    statuses: list[int] = []

    def send(path: str, data: dict[str, str]) -> None:
        barrier.wait()
        statuses.append(browser.post(path, data))

    threads = [threading.Thread(target=send, args=post) for post in posts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def race_two_pages(browser: Browser, pages: str, token: str, framework: Framework) -> int:
    """For each pair of statements, the autosave of value 1 and Next on value 2 at the same
    moment, as with two tabs or an autosave still on its way; how many answers were sent."""
    first, second = framework.values[0].statements, framework.values[1].statements
    statuses = []
    for one, two in zip(first, second, strict=False):
        statuses += post_together(
            browser,
            [
                (f"{pages}/1", {"csrf_token": token, "action": "autosave", f"s{one.id}": "4"}),
                (f"{pages}/2", {"csrf_token": token, "action": "next", f"s{two.id}": "3"}),
            ],
        )
    assert sorted(set(statuses)) == [204, 302]
    return len(statuses)


def test_saves_of_two_pages_sent_together_are_both_kept(app: Flask, invited) -> None:  # type: ignore[no-untyped-def]
    link = invited()["rater1@example.org"]
    invitation = db.session.scalars(db.select(Invitation)).first()
    with serving(app) as base:
        rater = Browser(base)
        token = csrf_token(rater.get(f"{link}/values/1"))
        sent = race_two_pages(rater, f"{link}/values", token, invitation.request.cycle.framework)

    db.session.expire_all()
    assert len(rater_draft(db.session.get(Invitation, invitation.id))["ratings"]) == sent


def test_self_assessment_saves_sent_together_are_both_kept(
    app: Flask, make_person, open_cycle
) -> None:  # type: ignore[no-untyped-def]
    make_person("Sam Taylor", "sam@example.org")
    cycle = open_cycle()
    with serving(app) as base:
        sam = Browser(base)
        token = csrf_token(sam.get("/sign-in"))
        sam.post(
            "/sign-in", {"csrf_token": token, "email": "sam@example.org", "password": PASSWORD}
        )
        token = csrf_token(sam.get("/"))  # signing in starts a new session
        assert sam.post(f"/cycles/{cycle.id}/request", {"csrf_token": token}) == 302
        request = db.session.scalars(db.select(FeedbackRequest)).one()
        pages = f"/requests/{request.id}/self/values"
        sent = race_two_pages(sam, pages, token, cycle.framework)

    db.session.expire_all()
    assert len(db.session.get(FeedbackRequest, request.id).self_draft["ratings"]) == sent


def test_a_link_submitted_many_times_at_once_keeps_one_submission(app: Flask, invited) -> None:  # type: ignore[no-untyped-def]
    link = invited()["rater1@example.org"]
    framework = db.session.scalars(db.select(Invitation)).first().request.cycle.framework
    every_answer = {f"s{statement.id}": "4" for statement in framework.statements}
    with serving(app) as base:
        rater = Browser(base)
        token = csrf_token(rater.get(f"{link}/form"))
        assert (
            rater.post(f"{link}/form", {"csrf_token": token, "action": "save", **every_answer})
            == 302
        )
        statuses = post_together(
            rater, [(f"{link}/summary", {"csrf_token": token, "action": "submit"})] * 10
        )

    assert statuses.count(302) == 1  # to the thank-you page
    assert set(statuses) - {302} <= {400, 410}  # the others hear it was already sent
    db.session.expire_all()
    submitted = db.session.scalars(db.select(Invitation).filter_by(status=SUBMITTED)).all()
    assert len(submitted) == 1
    assert rater_draft(submitted[0])["ratings"] == {k[1:]: 4 for k in every_answer}


def test_the_database_refuses_a_second_self_assessment(app: Flask, invited) -> None:  # type: ignore[no-untyped-def]
    invited()
    invitation = db.session.scalars(db.select(Invitation)).first()
    with whole_transactions():
        for _ in range(2):
            db.session.add(Response(request_id=invitation.request_id, group="self", scores=b""))
        with pytest.raises(IntegrityError):
            db.session.commit()
