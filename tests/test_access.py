"""Signing in, and who may see which request and report."""

from __future__ import annotations

import pytest

from feedback360.extensions import db
from feedback360.feedback.models import FeedbackRequest
from tests.conftest import PASSWORD, page_text, sign_in, submit_form


def test_signing_in_and_out(client, make_person):
    make_person("Sam Taylor", "sam@example.org")
    assert client.get("/").location.startswith("/sign-in")
    assert sign_in(client, "sam@example.org").location == "/"
    assert "Your feedback" in client.get("/").text
    submit_form(client, "/", {}, action="/sign-out")
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("email", ["sam@example.org", "nobody@example.org"])
def test_a_wrong_password_says_the_same_whoever_you_are(client, make_person, email):
    make_person("Sam Taylor", "sam@example.org")
    response = sign_in(client, email, "wrong password")
    assert response.status_code == 200
    assert "That email address and password do not match." in response.text
    assert 'value="' + email + '"' in response.text  # what was typed is kept


def test_an_empty_sign_in_form_says_what_is_missing(client):
    text = page_text(submit_form(client, "/sign-in", {"email": "", "password": ""}).text)
    assert "Enter your email address." in text
    assert "Enter your password." in text


def test_nobody_else_can_open_a_request_or_its_report(app, invited, make_person):
    invited(["peer"] * 5)
    request = db.session.scalars(db.select(FeedbackRequest)).one()
    make_person("Nosy Parker", "nosy@example.org")
    nosy = app.test_client()
    sign_in(nosy, "nosy@example.org")
    for path in (
        f"/requests/{request.id}",
        f"/requests/{request.id}/self",
        f"/reports/{request.id}/",
        f"/reports/{request.id}/report.pdf",
    ):
        assert nosy.get(path).status_code == 404, path


def test_the_report_waits_for_release(app, invited, runner):
    invited(["peer"] * 5)
    request = db.session.scalars(db.select(FeedbackRequest)).one()
    sam = app.test_client()
    sign_in(sam, "sam@example.org")
    runner.invoke(args=["cycle", "close", "Spring 2026"])
    runner.invoke(args=["reports", "build", "Spring 2026"])
    assert sam.get(f"/reports/{request.id}/report.pdf").status_code == 404
    runner.invoke(args=["cycle", "release", "Spring 2026"])
    assert sam.get(f"/reports/{request.id}/report.pdf").status_code == 200


def test_nomination_mistakes_are_explained_and_kept(app, invited, make_person):
    invited(["peer"] * 5)
    request = db.session.scalars(db.select(FeedbackRequest)).one()
    sam = app.test_client()
    sign_in(sam, "sam@example.org")
    page = f"/requests/{request.id}"
    cases = [
        (
            {"name": "Me", "email": "sam@example.org", "group": "peer"},
            "You cannot nominate yourself",
        ),
        ({"name": "Again", "email": "rater1@example.org", "group": "peer"}, "already on your list"),
        ({"name": "Ann", "email": "not-an-email", "group": "peer"}, "Enter an email address like"),
        ({"name": "Ann", "email": "ann@example.org", "group": "boss"}, "Not a valid choice"),
    ]
    for data, message in cases:
        response = submit_form(sam, page, data, action=f"{page}/nominations")
        assert response.status_code == 400
        assert message in response.text
        assert f'value="{data["email"]}"' in response.text


@pytest.mark.parametrize(
    ("asked_for", "lands_on"),
    [("/requests/1", "/requests/1"), ("//evil.example/x", "/"), ("https://evil.example/", "/")],
)
def test_signing_in_returns_to_the_page_asked_for_on_this_site_only(
    client, make_person, asked_for, lands_on
):
    make_person("Sam Taylor", "sam@example.org")
    page = f"/sign-in?next={asked_for}"
    response = submit_form(client, page, {"email": "sam@example.org", "password": PASSWORD})
    assert response.location == lands_on


def test_the_front_door_asks_to_sign_in_without_a_telling_off(client):
    front = client.get("/")
    assert front.location == "/sign-in"
    assert "Please sign in to see that page." not in client.get(front.location).text

    inner = client.get("/admin/")
    assert inner.location.startswith("/sign-in?next=")
    assert "Please sign in to see that page." in client.get(inner.location).text
