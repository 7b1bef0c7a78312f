"""Setting a password from the one-time link that new people receive."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from feedback360.accounts.activation import issue_password_token
from feedback360.accounts.models import Person
from feedback360.accounts.services import person_by_email
from feedback360.extensions import db
from feedback360.timeutil import utcnow
from tests.conftest import (
    PASSWORD,
    csrf_token,
    outbox_messages,
    page_text,
    sign_in,
    submit_form,
)
from tests.test_people_import import HEADER, upload

NEW_PASSWORD = "a long new password"


@pytest.fixture
def newcomer(app, admin):
    """Nia, just imported: she has no password yet, only the link in her email."""
    response = upload(admin, HEADER + "Nia Obi,nia@example.org,Police staff,Camden,,,\n")
    assert response.status_code == 302
    return "nia@example.org"


def password_links(app, email: str) -> list[str]:
    """The paths of the set-password links mailed to this address."""
    links = []
    for message in outbox_messages(app):
        if message["To"] != email:
            continue
        body = next(
            part.get_payload(decode=True).decode()
            for part in message.walk()
            if part.get_content_type() == "text/plain"
        )
        match = re.search(r"http://localhost(/account/set-password/[A-Za-z0-9_\-]+)", body)
        assert match, body
        links.append(match.group(1))
    return links


def password_link(app, email: str) -> str:
    """The one link mailed to this address."""
    (link,) = password_links(app, email)
    return link


def choose_password(client, link: str, password: str = NEW_PASSWORD, confirm: str | None = None):  # type: ignore[no-untyped-def]
    return submit_form(client, link, {"password": password, "confirm": confirm or password})


def test_the_link_sets_the_password_and_signs_in_once(app, client, newcomer):
    link = password_link(app, newcomer)
    assert "nia@example.org" in page_text(client.get(link).text)
    assert client.get(link).headers["Referrer-Policy"] == "no-referrer"

    response = choose_password(client, link)

    assert response.location == "/"
    assert "Your password is set and you are signed in." in client.get("/").text
    assert sign_in(app.test_client(), newcomer, NEW_PASSWORD).location == "/"
    used = app.test_client().get(link)
    assert used.status_code == 404
    assert "This link is not valid" in page_text(used.text)
    assert "It may have been used already" in page_text(used.text)


def test_the_link_expires(app, client, newcomer):
    link = password_link(app, newcomer)
    person = person_by_email(newcomer)
    person.password_token_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()

    response = client.get(link)

    assert response.status_code == 410
    assert "This link has expired" in page_text(response.text)
    token = csrf_token(client.get("/sign-in").text)
    posted = {"csrf_token": token, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert client.post(link, data=posted).status_code == 410
    assert person_by_email(newcomer).password_hash is None


def test_the_link_lasts_seven_days(app, newcomer):
    expires = person_by_email(newcomer).password_token_expires_at
    lifetime = expires.replace(tzinfo=None) - utcnow().replace(tzinfo=None)
    assert timedelta(days=6, hours=23) < lifetime <= timedelta(days=7)


@pytest.mark.parametrize("token", ["nonsense", "x" * 43, "A" * 500])
def test_a_wrong_link_gets_a_clear_page(client, token):
    response = client.get(f"/account/set-password/{token}")

    assert response.status_code == 404
    assert "This link is not valid" in page_text(response.text)


def test_the_database_keeps_only_a_hash_of_the_token(app, newcomer):
    token = password_link(app, newcomer).rsplit("/", 1)[1]
    person = person_by_email(newcomer)
    assert len(token) >= 43  # 256 bits, base64
    assert token not in (person.password_token_hash or "")
    assert person.password_token_hash


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("too short", "too short", "Use between 12 and 200 characters."),
        ("password1234", "password1234", "That password is one of the most common"),
        (NEW_PASSWORD, "something else", "The two passwords are not the same."),
        ("", "", "Enter a password."),
    ],
)
def test_a_bad_password_is_explained_and_the_link_still_works(
    app, client, newcomer, password, confirm, message
):
    link = password_link(app, newcomer)

    response = choose_password(client, link, password, confirm)

    assert response.status_code == 400
    assert message in page_text(response.text)
    assert choose_password(client, link).location == "/"


def test_an_administrator_resends_the_link_and_the_old_one_stops_working(app, admin, newcomer):
    old = password_link(app, newcomer)
    nia = person_by_email(newcomer)

    response = submit_form(
        admin, f"/admin/people/{nia.id}", {}, action=f"/admin/people/{nia.id}/password-link"
    )

    assert "A link to set a password was sent to nia@example.org" in page_text(
        admin.get(response.location).text
    )
    (new,) = set(password_links(app, newcomer)) - {old}
    assert app.test_client().get(old).status_code == 404
    assert choose_password(app.test_client(), new).location == "/"


def test_a_deactivated_person_cannot_use_their_link(app, client, newcomer):
    link = password_link(app, newcomer)
    nia = person_by_email(newcomer)
    token = issue_password_token(nia)  # a link issued before they left
    nia.deactivate()
    db.session.commit()

    assert client.get(link).status_code == 404  # deactivation spends every link
    assert client.get(f"/account/set-password/{token}").status_code == 404


def test_setting_a_password_ends_other_sessions(app, make_person):
    person: Person = make_person("Sam Taylor", "sam@example.org")
    old_browser = app.test_client()
    sign_in(old_browser, "sam@example.org", PASSWORD)
    token = issue_password_token(person)
    db.session.commit()

    assert choose_password(app.test_client(), f"/account/set-password/{token}").location == "/"

    assert old_browser.get("/").location.startswith("/sign-in")
