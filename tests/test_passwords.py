"""Issue 15, passwords: one rule everywhere (12 characters, none of the common ones), a link
by mail for a forgotten password that says nothing of who has an account, and changing
one's own password, which signs one out everywhere else."""

from __future__ import annotations

from email import message_from_bytes

import pytest

from feedback360.accounts.models import Person
from feedback360.accounts.passwords import COMMON_RULE, LENGTH_RULE, is_common
from feedback360.accounts.services import person_by_email
from feedback360.extensions import db
from feedback360.timeutil import utcnow
from tests.conftest import (
    PASSWORD,
    add_signed_up,
    outbox_messages,
    page_text,
    running_app,
    sign_in,
    submit_form,
    text_of,
)
from tests.test_activation import password_link

NEW_PASSWORD = "a brand new passphrase"
SENT = "If that address belongs to an account here, a link to choose a new password"


@pytest.mark.parametrize(
    "password",
    [
        "password123",
        "password1234",
        "Password1234!",
        "qwerty123456",
        "aaaaaaaaaaaa",
        "123456789012",
        "iloveyou2024",
        "abababababab",
    ],
)
def test_common_and_padded_passwords_are_refused(password):
    assert is_common(password) or len(password) < 12


@pytest.mark.parametrize("password", [PASSWORD, NEW_PASSWORD, "Tr0ub4dor&3-horse"])
def test_uncommon_passwords_are_taken(password):
    assert not is_common(password)


def test_the_common_list_comes_from_a_kept_package_and_is_long():
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    assert len(FREQUENCY_LISTS["passwords"]) >= 10_000
    assert is_common(FREQUENCY_LISTS["passwords"][9_999])


@pytest.mark.parametrize(
    ("password", "reason"),
    [("eleven char", LENGTH_RULE), ("password1234", COMMON_RULE), ("Football2024", COMMON_RULE)],
)
def test_the_command_line_keeps_the_same_rule(app, password, reason):
    result = app.test_cli_runner().invoke(
        args=[
            "people",
            "add",
            "--name",
            "Jo Bloggs",
            "--email",
            "jo@example.org",
            "--password",
            password,
        ]  # fmt: skip
    )
    assert result.exit_code == 1
    assert reason in result.output
    assert person_by_email("jo@example.org") is None


def ask_for_a_link(client, email: str):  # type: ignore[no-untyped-def]
    response = submit_form(client, "/account/forgot-password", {"email": email})
    return response


def test_a_forgotten_password_is_replaced_through_a_link_that_works_once(app, client, make_person):
    make_person("Sam Taylor", "sam@example.org")
    assert "Forgot your password?" in client.get("/sign-in").text

    response = ask_for_a_link(client, " SAM@example.org ")

    assert response.location == "/sign-in"
    assert SENT in page_text(client.get("/sign-in").text)
    (message,) = outbox_messages(app)
    assert message["To"] == "sam@example.org"
    assert message["Subject"] == "Choose a new feedback360 password"
    link = password_link(app, "sam@example.org")
    assert "expires in 2 hours" in text_of(message)
    data = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert submit_form(client, link, data).location == "/"
    client.post("/sign-out", data={"csrf_token": ""})
    other = app.test_client()
    assert sign_in(other, "sam@example.org", PASSWORD).status_code == 200  # the old one: no
    assert sign_in(other, "sam@example.org", NEW_PASSWORD).location == "/"
    assert app.test_client().get(link).status_code == 404  # used


@pytest.mark.parametrize("email", ["nobody@example.org", "former@example.org", "not an email"])
def test_an_address_without_a_usable_account_gets_the_same_answer_and_no_mail(
    app, client, make_person, email
):
    former = make_person("Fay Former", "former@example.org")
    former.deactivate()
    db.session.commit()

    response = ask_for_a_link(client, email)

    if email == "not an email":
        assert response.location == "/sign-in"  # not told it is not an address either
    assert SENT in page_text(client.get("/sign-in").text)
    assert outbox_messages(app) == []


def test_a_reset_link_expires_after_two_hours(app, client, make_person):
    make_person("Sam Taylor", "sam@example.org")
    ask_for_a_link(client, "sam@example.org")
    link = password_link(app, "sam@example.org")
    person = person_by_email("sam@example.org")
    assert person is not None
    assert person.password_token_expires_at is not None
    assert (person.password_token_expires_at - utcnow()).total_seconds() <= 2 * 3600
    person.password_token_expires_at = utcnow()
    db.session.commit()

    assert client.get(link).status_code == 410


def test_changing_ones_password_asks_the_current_one_and_ends_every_other_session(app, make_person):
    make_person("Sam Taylor", "sam@example.org")
    here, elsewhere = app.test_client(), app.test_client()
    sign_in(here, "sam@example.org")
    sign_in(elsewhere, "sam@example.org")
    assert "Change password" in here.get("/").text

    wrong = submit_form(
        here,
        "/account/password",
        {"current": "not my password", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert wrong.status_code == 400
    assert "That is not your current password." in page_text(wrong.text)
    common = submit_form(
        here,
        "/account/password",
        {"current": PASSWORD, "password": "password1234", "confirm": "password1234"},
    )
    assert COMMON_RULE in page_text(common.text)

    done = submit_form(
        here,
        "/account/password",
        {"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )

    assert done.location == "/"
    assert "Your password has been changed" in page_text(here.get("/").text)
    assert elsewhere.get("/").location.startswith("/sign-in")  # signed out there
    assert sign_in(app.test_client(), "sam@example.org", NEW_PASSWORD).location == "/"


def test_someone_signed_out_cannot_change_a_password(client, make_person):
    make_person("Sam Taylor", "sam@example.org")
    assert client.get("/account/password").location.startswith("/sign-in")
    person = db.session.scalars(db.select(Person)).one()
    assert person.check_password(PASSWORD)


def test_asking_again_within_ten_minutes_sends_no_second_mail(app, client, make_person):
    make_person("Sam Taylor", "sam@example.org")
    ask_for_a_link(client, "sam@example.org")
    ask_for_a_link(client, "sam@example.org")

    assert len(outbox_messages(app)) == 1
    assert SENT in page_text(client.get("/sign-in").text)  # said the same both times


def test_one_address_may_ask_only_a_few_times_an_hour(app, client, make_person):
    for n in range(5):
        assert ask_for_a_link(client, f"someone{n}@example.org").status_code == 302

    refused = ask_for_a_link(client, "someone5@example.org")

    assert refused.status_code == 429
    assert "too many attempts" in page_text(refused.text)


@pytest.mark.suite_database
def test_the_new_password_link_reaches_a_real_mail_server(tmp_path, monkeypatch, smtp_server):
    smtp = {"MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_server.port}
    with running_app(tmp_path, monkeypatch, **smtp) as app:
        add_signed_up("Sam Taylor", "sam@example.org")
        db.session.commit()
        ask_for_a_link(app.test_client(), "sam@example.org")

    (envelope,) = smtp_server.handler.envelopes
    assert envelope.rcpt_tos == ["sam@example.org"]
    message = message_from_bytes(envelope.original_content)
    assert message["Subject"] == "Choose a new feedback360 password"
    assert "/account/set-password/" in text_of(message)
