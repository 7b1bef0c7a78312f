"""Issue 15, a second factor for administrators and coaches who sign in with a password:
set up from a QR code at the first sign-in, a code from the app every time after, each code
once, recovery codes for a lost phone, and nobody signed in between the two steps."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pyotp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedback360.accounts import second_factor
from feedback360.accounts.models import Person
from feedback360.accounts.second_factor_views import MOST_WRONG_CODES, START_AGAIN
from feedback360.accounts.services import add_person, person_by_email
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.timeutil import utcnow
from tests.conftest import (
    PASSWORD,
    add_signed_up,
    authenticator_code,
    csrf_token,
    page_text,
    sign_in,
    submit_form,
)
from tests.rate_limit_helpers import limited_app

ADA = "ada@example.org"
ADDRESSES = itertools.cycle(range(1, 255))


@pytest.fixture
def ada(app):  # type: ignore[no-untyped-def]
    """An administrator who has never signed in: no second factor yet."""
    add_person("Ada Admin", ADA, password=PASSWORD, is_admin=True)
    db.session.commit()
    return ADA


def password_step(client, email: str = ADA):  # type: ignore[no-untyped-def]
    return submit_form(client, "/sign-in", {"email": email, "password": PASSWORD})


def set_up_page(client) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """The set-up page and the key it shows."""
    html = client.get("/sign-in/set-up").text
    key = re.search(r'class="setup-key">([A-Z2-7]+)<', html)
    assert key
    return html, key.group(1)


def signed_in(client) -> bool:  # type: ignore[no-untyped-def]
    return client.get("/").status_code == 200


def test_the_first_sign_in_sets_up_the_app_and_gives_recovery_codes(client, ada):
    assert password_step(client).location == "/sign-in/set-up"
    assert not signed_in(client)  # the password alone signs nobody in
    html, key = set_up_page(client)
    assert '<svg role="img" aria-label="QR code to scan with your authenticator app"' in html
    assert "Set up a second step for signing in" in page_text(html)

    wrong = client.post("/sign-in/set-up", data={"csrf_token": csrf_token(html), "code": "000000"})
    assert wrong.status_code == 400
    assert second_factor.WRONG_CODE in page_text(wrong.text)
    assert not signed_in(client)

    codes_page = client.post(
        "/sign-in/set-up", data={"csrf_token": csrf_token(html), "code": pyotp.TOTP(key).now()}
    )

    assert codes_page.status_code == 200
    assert codes_page.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", codes_page.text)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert signed_in(client)
    person = person_by_email(ADA)
    assert person is not None
    assert person.totp_secret == key
    assert all(code not in (person.recovery_code_hashes or "") for code in codes)  # hashed


def test_later_sign_ins_ask_for_a_code_each_used_once(app, make_person):
    make_person("Cora Coach", "cora@example.org", is_coach=True)
    first = app.test_client()
    assert password_step(first, "cora@example.org").location == "/sign-in/code"
    code = authenticator_code("cora@example.org")
    assert submit_form(first, "/sign-in/code", {"code": code}).location == "/"
    assert signed_in(first)

    again = app.test_client()
    password_step(again, "cora@example.org")
    replayed = submit_form(again, "/sign-in/code", {"code": code})

    assert replayed.status_code == 400
    assert not signed_in(again)


def test_a_recovery_code_signs_in_once(client, ada):
    password_step(client)
    html, key = set_up_page(client)
    codes_page = client.post(
        "/sign-in/set-up", data={"csrf_token": csrf_token(html), "code": pyotp.TOTP(key).now()}
    )
    code = re.findall(r"<code>([a-z2-9-]+)</code>", codes_page.text)[3]
    client.post("/sign-out", data={"csrf_token": csrf_token(client.get("/").text)})

    password_step(client)
    assert submit_form(client, "/sign-in/code", {"code": f" {code.upper()} "}).location == "/"
    client.post("/sign-out", data={"csrf_token": csrf_token(client.get("/").text)})
    password_step(client)
    assert submit_form(client, "/sign-in/code", {"code": code}).status_code == 400
    person = person_by_email(ADA)
    assert person is not None
    assert second_factor.recovery_codes_left(person) == 9


def test_five_wrong_codes_mean_the_password_again(client, make_person):
    make_person("Ada Admin", ADA, is_admin=True)
    password_step(client)
    for _ in range(MOST_WRONG_CODES - 1):
        assert submit_form(client, "/sign-in/code", {"code": "000000"}).status_code == 400
    last = submit_form(client, "/sign-in/code", {"code": "000000"})

    assert last.location == "/sign-in"
    assert START_AGAIN in page_text(client.get("/sign-in").text)
    assert client.get("/sign-in/code").location == "/sign-in"


def test_someone_deactivated_between_the_two_steps_is_not_signed_in(client, make_person):
    ada = make_person("Ada Admin", ADA, is_admin=True)
    password_step(client)
    token = csrf_token(client.get("/sign-in/code").text)
    ada.deactivate()
    db.session.commit()

    response = client.post(
        "/sign-in/code", data={"csrf_token": token, "code": authenticator_code(ADA)}
    )

    assert response.location == "/sign-in"
    assert not signed_in(client)


def test_staff_who_read_only_their_own_report_are_not_asked(client, make_person):
    make_person("Sam Taylor", "sam@example.org")
    assert password_step(client, "sam@example.org").location == "/"


def test_a_code_from_the_last_half_minute_is_taken_and_an_older_one_is_not():
    person = Person(name="Ada Admin", email=ADA)  # not saved: the rule alone
    secret = pyotp.random_base32()
    person.totp_secret = secret
    now = utcnow()
    totp = pyotp.TOTP(secret)
    second_factor.check(person, totp.at(now - timedelta(seconds=30)), now=now)
    with pytest.raises(DomainError, match="not right"):
        second_factor.check(person, totp.at(now - timedelta(seconds=90)), now=now)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(code=st.text(max_size=60) | st.binary(max_size=60).map(lambda b: b.decode("latin-1")))
def test_no_code_anyone_types_fails_or_signs_in(app, make_person, code):
    if person_by_email(ADA) is None:
        make_person("Ada Admin", ADA, is_admin=True)
    client = app.test_client()
    # Each example from an address of its own: wrong codes count as failed sign-ins.
    client.environ_base["REMOTE_ADDR"] = f"198.51.100.{next(ADDRESSES)}"
    password_step(client)
    html = client.get("/sign-in/code").text
    response = client.post("/sign-in/code", data={"csrf_token": csrf_token(html), "code": code})
    assert response.status_code in (302, 400)
    assert not signed_in(client)


def test_an_administrator_clears_a_lost_second_factor_and_it_is_set_up_again(
    app, admin, make_person
):
    cora = make_person("Cora Coach", "cora@example.org", is_coach=True)
    page = f"/admin/people/{cora.id}"
    assert "Clear second factor" in admin.get(page).text

    cleared = submit_form(admin, page, {}, action=f"{page}/second-factor/clear")

    assert cleared.location == page
    assert "Second factor cleared" in page_text(admin.get(page).text)
    client = app.test_client()
    assert password_step(client, "cora@example.org").location == "/sign-in/set-up"
    assert "Second factor cleared" in page_text(admin.get("/admin/audit").text)


@pytest.mark.suite_database
def test_wrong_codes_count_as_failed_sign_ins_so_the_password_cannot_be_replayed_for_ever(
    tmp_path, monkeypatch
):
    """Someone who has the password but not the phone: after five wrong codes they must
    give the password again, and the rate limits count every wrong code, so they are soon
    stopped at the password step."""
    with limited_app(tmp_path, monkeypatch, SIGN_IN_PER_ACCOUNT_AND_ADDRESS="10 per hour") as app:
        add_signed_up("Ada Admin", ADA, is_admin=True)
        db.session.commit()
        thief = app.test_client()
        for _ in range(2):
            assert password_step(thief).location == "/sign-in/code"
            for _ in range(MOST_WRONG_CODES):
                submit_form(thief, "/sign-in/code", {"code": "000000"})

        assert password_step(thief).status_code == 429
        owner = app.test_client()
        owner.environ_base["REMOTE_ADDR"] = "192.0.2.7"  # at her own desk
        assert sign_in(owner, ADA).location == "/"
