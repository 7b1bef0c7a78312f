"""Single sign-on through a real OpenID Connect provider (issue 15).

One provider (panva's oidc-provider, tests/oidc_helpers.py) runs for the whole module; each
test has its own app and database, registered at the provider as the same application.
The app's pages are the test client's; the provider's are visited with requests, as the
same person's browser would, until the provider sends them back to the app.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from feedback360.accounts.activation import issue_password_token
from feedback360.accounts.models import Person
from feedback360.accounts.services import add_person, person_by_email
from feedback360.audit.models import AuditEntry
from feedback360.config import ConfigError
from feedback360.erasure import erase_person
from feedback360.extensions import db
from feedback360.security.sessions import LAST_SEEN, TIMED_OUT
from tests.conftest import (
    PASSWORD,
    csrf_token,
    outbox_messages,
    page_text,
    running_app,
    sign_in,
    submit_form,
)
from tests.fuzz_helpers import database_rows, odd_text, posts, send
from tests.oidc_helpers import CALLBACK, AtTheProvider, Client, Provider, oidc_provider
from tests.servers import free_port
from tests.test_people_import import upload

SITE = "http://localhost"  # the tests' BASE_URL
START = "/sign-in/single-sign-on"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    with oidc_provider(tmp_path_factory.mktemp("oidc")) as running:
        yield running


@pytest.fixture(scope="module")
def registered(provider: Provider) -> Client:
    return provider.register(SITE)


@pytest.fixture
def app(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    provider: Provider,
    registered: Client,
) -> Iterator[Flask]:
    """The app with single sign-on through the provider (and settings a test names)."""
    more = getattr(request, "param", {})
    with running_app(tmp_path, monkeypatch, **provider.settings(registered, **more)) as app:
        yield app


sso_only = pytest.mark.parametrize("app", [{"PASSWORD_SIGN_IN": False}], indirect=True)


def staff_member(name: str, email: str, **roles: bool) -> Person:
    """Someone on the staff list, as an import leaves them: no password."""
    person = add_person(name, email, **roles)
    db.session.commit()
    return person


def press_the_button(client: FlaskClient, sign_in_page: str = "/sign-in") -> TestResponse:
    """The sign-in page's single sign-on button, as a browser presses it."""
    page = client.get(sign_in_page).text
    action = re.search(rf'action="({START}[^"]*)"', page)
    assert action, "the sign-in page has no single sign-on button"
    return client.post(html.unescape(action.group(1)), data={"csrf_token": csrf_token(page)})


def signed_in_through(
    client: FlaskClient, at_provider: AtTheProvider, login: str, sign_in_page: str = "/sign-in"
) -> TestResponse:
    """Sign in through the provider as the account `login`; the app's answer to the return."""
    start = press_the_button(client, sign_in_page)
    assert start.status_code == 302, page_text(start.text)
    return client.get(at_provider.sign_in(start.location, login))


def who_is_signed_in(client: FlaskClient) -> str | None:
    response = client.get("/")
    if response.status_code != 200:
        return None
    match = re.search(r'<span class="who">([^<]*)</span>', response.text)
    return html.unescape(match.group(1)) if match else None


def account(email: str, **levers: object) -> dict[str, object]:
    return {"claims": {"email": email, "email_verified": True}, **levers}


@pytest.fixture
def sam(app: Flask, provider: Provider) -> Person:
    """Sam Taylor: on the staff list (with no password), and at the provider as "sam"."""
    person = staff_member("Sam Taylor", "sam@example.org")
    provider.set_accounts({"sam": account("sam@example.org")})
    return person


# ---------------------------------------------------------------- signing in


def test_a_person_on_the_staff_list_signs_in_and_stays_matched_when_their_email_changes(
    app: Flask, provider: Provider
) -> None:
    sam = staff_member("Sam Taylor", "sam@example.org")
    provider.set_accounts({"sam-at-provider": account("sam@example.org")})
    browser = app.test_client()

    back = signed_in_through(browser, AtTheProvider(SITE), "sam-at-provider")

    assert back.status_code == 302
    assert back.location == "/"
    assert who_is_signed_in(browser) == "Sam Taylor"
    db.session.refresh(sam)
    assert sam.oidc_subject == "sam-at-provider"
    assert db.session.scalars(db.select(AuditEntry.action)).all() == ["person.single_sign_on"]

    # Sam's address changes at the provider; someone else there now has the old one.
    provider.set_accounts(
        {
            "sam-at-provider": account("s.taylor@new.example.org"),
            "someone-else": account("sam@example.org"),
        }
    )
    later = app.test_client()
    signed_in_through(later, AtTheProvider(SITE), "sam-at-provider")
    assert who_is_signed_in(later) == "Sam Taylor"

    impostor = app.test_client()
    refused = signed_in_through(impostor, AtTheProvider(SITE), "someone-else")
    assert refused.status_code == 403
    assert "This email address belongs to another sign-in" in page_text(refused.text)
    assert who_is_signed_in(impostor) is None


def test_the_page_asked_for_is_shown_after_signing_in(app: Flask, sam: Person) -> None:
    browser = app.test_client()
    wanted = "/requests/1"
    sign_in_page = browser.get(wanted).location
    assert sign_in_page.startswith("/sign-in?next=")

    back = signed_in_through(browser, AtTheProvider(SITE), "sam", sign_in_page)

    assert back.location == wanted
    elsewhere = signed_in_through(
        app.test_client(), AtTheProvider(SITE), "sam", "/sign-in?next=" + quote("//evil.example/")
    )
    assert elsewhere.location == "/"


def test_someone_not_on_the_staff_list_gets_a_clear_page_and_no_account(
    app: Flask, provider: Provider
) -> None:
    staff_member("Sam Taylor", "sam@example.org")
    provider.set_accounts({"stranger": account("stranger@example.org")})
    browser = app.test_client()

    refused = signed_in_through(browser, AtTheProvider(SITE), "stranger")

    assert refused.status_code == 403
    text = page_text(refused.text)
    assert "You are not on the staff list" in text
    assert "stranger@example.org" in text
    assert "no account has been made for you" in text
    assert person_by_email("stranger@example.org") is None
    assert db.session.scalar(db.select(db.func.count(Person.id))) == 1
    assert who_is_signed_in(browser) is None


def test_a_deactivated_person_is_refused_and_their_open_session_ends(
    app: Flask, sam: Person
) -> None:
    browser = app.test_client()
    signed_in_through(browser, AtTheProvider(SITE), "sam")
    assert who_is_signed_in(browser) == "Sam Taylor"

    sam.deactivate()  # as an administrator or an import of leavers does
    db.session.commit()

    assert who_is_signed_in(browser) is None
    refused = signed_in_through(app.test_client(), AtTheProvider(SITE), "sam")
    assert refused.status_code == 403
    assert "Your account is deactivated" in page_text(refused.text)


def test_a_deactivated_person_never_linked_is_refused_and_not_linked(
    app: Flask, provider: Provider
) -> None:
    dee = staff_member("Dee Parted", "dee@example.org")
    dee.deactivate()
    db.session.commit()
    provider.set_accounts({"dee": account("dee@example.org")})

    refused = signed_in_through(app.test_client(), AtTheProvider(SITE), "dee")

    assert refused.status_code == 403
    assert "Your account is deactivated" in page_text(refused.text)
    db.session.refresh(dee)
    assert dee.oidc_subject is None


def test_an_address_the_provider_has_not_checked_is_not_taken_as_theirs(
    app: Flask, provider: Provider
) -> None:
    staff_member("Sam Taylor", "sam@example.org")
    provider.set_accounts(
        {"claims-sam": {"claims": {"email": "sam@example.org", "email_verified": False}}}
    )

    refused = signed_in_through(app.test_client(), AtTheProvider(SITE), "claims-sam")

    assert refused.status_code == 403
    assert "Your email address was not confirmed" in page_text(refused.text)
    assert person_by_email("sam@example.org").oidc_subject is None  # type: ignore[union-attr]


def test_an_erased_person_loses_the_link_and_cannot_sign_in(app: Flask, sam: Person) -> None:
    signed_in_through(app.test_client(), AtTheProvider(SITE), "sam")

    erase_person(sam, "sam@example.org", acting=None)
    db.session.commit()

    assert sam.oidc_subject is None  # the provider's id for them was theirs too
    refused = signed_in_through(app.test_client(), AtTheProvider(SITE), "sam")
    assert refused.status_code == 403
    assert "You are not on the staff list" in page_text(refused.text)


def test_the_sign_in_form_may_lead_to_the_provider_and_nowhere_else(
    app: Flask, provider: Provider
) -> None:
    """The page's Content-Security-Policy lets its forms lead to the provider (a form
    whose answer redirects elsewhere is refused by browsers) and to no other site."""
    policy = app.test_client().get("/sign-in").headers["Content-Security-Policy"]

    assert f"form-action 'self' {provider.issuer};" in policy


# ---------------------------------------------------------------- answers that are refused


def not_signed_in(response: TestResponse, browser: FlaskClient) -> None:
    assert response.status_code == 400
    assert "Signing in did not finish" in page_text(response.text)
    assert who_is_signed_in(browser) is None


def test_a_wrong_state_is_refused(app: Flask, sam: Person) -> None:
    browser = app.test_client()
    back = AtTheProvider(SITE).sign_in(press_the_button(browser).location, "sam")
    state = parse_qs(urlsplit(back).query)["state"][0]

    not_signed_in(browser.get(back.replace(state, state[::-1])), browser)
    assert sam.oidc_subject is None


def test_a_code_used_twice_is_refused_the_second_time(app: Flask, sam: Person) -> None:
    """Even by a browser holding a copy of the first one's cookie (its state and verifier)."""
    browser = app.test_client()
    back = AtTheProvider(SITE).sign_in(press_the_button(browser).location, "sam")
    copy = app.test_client()
    copy.set_cookie("session", browser.get_cookie("session").value)  # type: ignore[union-attr]

    assert browser.get(back).location == "/"
    not_signed_in(copy.get(back), copy)
    assert who_is_signed_in(browser) == "Sam Taylor"


def test_an_id_token_made_out_to_another_application_is_refused(
    app: Flask, provider: Provider
) -> None:
    sam = staff_member("Sam Taylor", "sam@example.org")
    other = provider.register(SITE)
    provider.set_accounts({"sam": account("sam@example.org", id_token_for=other.client_id)})
    browser = app.test_client()

    not_signed_in(signed_in_through(browser, AtTheProvider(SITE), "sam"), browser)
    db.session.refresh(sam)
    assert sam.oidc_subject is None


def test_an_expired_id_token_is_refused(app: Flask, provider: Provider) -> None:
    """Expired five minutes ago: beyond the two minutes allowed for clocks that differ."""
    sam = staff_member("Sam Taylor", "sam@example.org")
    provider.set_accounts({"sam": account("sam@example.org", id_token_expired_ago=300)})
    browser = app.test_client()

    not_signed_in(signed_in_through(browser, AtTheProvider(SITE), "sam"), browser)
    db.session.refresh(sam)
    assert sam.oidc_subject is None


def test_a_provider_that_cannot_be_reached_gets_a_clear_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    settings_ = {"OIDC_ISSUER": closed, "OIDC_CLIENT_ID": "x", "OIDC_CLIENT_SECRET": "y"}
    with running_app(tmp_path, monkeypatch, database="sqlite", **settings_) as app:
        response = press_the_button(app.test_client())
        assert response.status_code == 502
        assert "The sign-in service cannot be reached" in page_text(response.text)


# ---------------------------------------------------------------- sessions and signing out


def test_signing_out_ends_our_session_and_the_providers(
    app: Flask, provider: Provider, sam: Person
) -> None:
    browser, at_provider = app.test_client(), AtTheProvider(SITE)
    signed_in_through(browser, at_provider, "sam")
    left_behind = app.test_client()  # a copy of the signed-in cookie, as a thief might keep
    left_behind.set_cookie("session", browser.get_cookie("session").value)  # type: ignore[union-attr]

    sign_out = submit_form(browser, "/", {}, action="/sign-out")

    assert sign_out.location.startswith(f"{provider.issuer}/session/end?")
    query = parse_qs(urlsplit(sign_out.location).query)
    assert query["post_logout_redirect_uri"] == [f"{SITE}/sign-in"]
    assert query["id_token_hint"]
    back = at_provider.sign_out(sign_out.location)
    assert back.startswith("/sign-in")
    assert "You have signed out." in page_text(browser.get(back).text)
    assert who_is_signed_in(browser) is None
    assert who_is_signed_in(left_behind) is None
    # The provider's session has ended too: signing in again asks who you are.
    at_provider.pages.clear()
    signed_in_through(browser, at_provider, "sam")
    assert at_provider.pages[0] == "Sign-in"


def test_a_single_sign_on_session_times_out_like_any_other(app: Flask, sam: Person) -> None:
    browser = app.test_client()
    signed_in_through(browser, AtTheProvider(SITE), "sam")
    with browser.session_transaction() as session:
        assert not [key for key in session if key.startswith("_state_")]  # a fresh session
        session[LAST_SEEN] -= 31 * 60

    response = browser.get("/")

    assert response.location.startswith("/sign-in")
    assert TIMED_OUT in page_text(browser.get(response.location).text)


def test_by_default_the_page_offers_single_sign_on_and_passwords(app: Flask) -> None:
    main = app.test_client().get("/sign-in").text.split("<main", 1)[1]

    assert "Sign in with your organisation account" in page_text(main)
    assert "Or sign in with your email address and password" in page_text(main)
    assert 'type="password"' in main


# ---------------------------------------------------------------- single sign-on only


@sso_only
def test_with_single_sign_on_only_the_page_offers_one_button(app: Flask) -> None:
    page = app.test_client().get("/sign-in").text

    main = page.split("<main", 1)[1]
    assert main.count("<button") == 1
    assert "Sign in with your organisation account" in page_text(main)
    assert 'type="password"' not in main
    assert "sign in with a password" in page_text(main)


@sso_only
def test_with_single_sign_on_only_administrators_keep_a_password(app: Flask) -> None:
    add_person("Ada Admin", "ada@example.org", password=PASSWORD, is_admin=True)
    add_person("Sam Taylor", "sam@example.org", password=PASSWORD)
    db.session.commit()
    browser = app.test_client()
    administrators_page = browser.get("/sign-in?method=password").text
    assert 'type="password"' in administrators_page
    assert "for administrators" in page_text(administrators_page)

    sam = submit_form(
        browser, "/sign-in?method=password", {"email": "sam@example.org", "password": PASSWORD}
    )
    assert sam.status_code == 200
    assert "do not match" in page_text(sam.text)

    sign_in(browser, "ada@example.org")  # and the second factor an administrator needs
    assert who_is_signed_in(browser) == "Ada Admin"


@sso_only
def test_with_single_sign_on_only_no_set_password_link_is_mailed_but_to_administrators(
    app: Flask, provider: Provider
) -> None:
    staff_member("Ada Admin", "ada@example.org", is_admin=True)
    provider.set_accounts({"ada": account("ada@example.org")})
    admin = app.test_client()
    signed_in_through(admin, AtTheProvider(SITE), "ada")
    staff = (
        "name,email,staff type,business unit,line manager's email,roles\n"
        "Ada Admin,ada@example.org,Police staff,Westminster,,admin\n"
        "Bea Khan,bea@example.org,Police staff,Westminster,ada@example.org,\n"
        "Dan Boss,dan@example.org,Police officer,Camden,,admin\n"
    )
    imported = upload(admin, staff)  # the import's job is run by then
    assert imported.status_code == 302, page_text(imported.text)
    assert "2 added" in page_text(admin.get(imported.location).text)

    assert [message["To"] for message in outbox_messages(app)] == ["dan@example.org"]
    bea = person_by_email("bea@example.org")
    assert bea is not None
    bea_page = admin.get(f"/admin/people/{bea.id}").text
    assert "Send a set-password link" not in bea_page
    assert "They sign in with their organisation account" in page_text(bea_page)
    asked = submit_form(
        admin, f"/admin/people/{bea.id}", {}, f"/admin/people/{bea.id}/password-link"
    )
    assert "only administrators keep a password" in page_text(admin.get(asked.location).text)
    assert len(outbox_messages(app)) == 1


def test_a_set_password_link_sent_before_passwords_were_switched_off_is_not_used(
    app: Flask,
) -> None:
    nell = staff_member("Nell New", "nell@example.org")
    link = f"/account/set-password/{issue_password_token(nell)}"
    db.session.commit()
    app.config["PASSWORD_SIGN_IN"] = False  # single sign-on only, from now on

    response = app.test_client().get(link)

    assert response.status_code == 410
    assert "Sign in with your organisation account" in page_text(response.text)


# ---------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("settings_", "says"),
    [
        ({"PASSWORD_SIGN_IN": False}, "PASSWORD_SIGN_IN = false needs single sign-on"),
        (
            {
                "OIDC_ISSUER": "http://login.example.org",
                "OIDC_CLIENT_ID": "a",
                "OIDC_CLIENT_SECRET": "b",
            },
            "https://",
        ),
        ({"OIDC_ISSUER": "https://login.example.org", "OIDC_CLIENT_ID": "a"}, "OIDC_CLIENT_SECRET"),
        ({"PASSWORD_SIGN_IN": "no"}, "PASSWORD_SIGN_IN must be true or false"),
    ],
)
def test_settings_that_cannot_work_are_refused_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings_: dict[str, object], says: str
) -> None:
    with (
        pytest.raises(ConfigError, match=re.escape(says)),
        running_app(tmp_path, monkeypatch, database="sqlite", **settings_),
    ):
        pass


# ---------------------------------------------------------------- nothing sent gives a 500


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    post=posts({"next": ["/", "//evil.example", "/requests/1"]}),
    next_page=st.one_of(st.none(), odd_text, st.text(max_size=30)),
    code=st.one_of(st.none(), odd_text, st.text(max_size=60)),
    state=st.sampled_from(["real", "missing", "other"]),
    extra=st.dictionaries(
        st.sampled_from(["iss", "error", "error_description", "session_state", "scope"]),
        st.one_of(odd_text, st.text(max_size=30)),
        max_size=3,
    ),
)
def test_nothing_sent_to_single_sign_on_fails_or_signs_anyone_in(  # type: ignore[no-untyped-def]
    app: Flask, provider: Provider, sam: Person, post, next_page, code, state, extra
) -> None:
    """Hostile posts to the button and hostile answers to the return address, some with
    the state of a sign-in really started: never a server error, nobody signed in, and
    nothing written."""
    before = database_rows()
    browser = app.test_client()
    token = csrf_token(browser.get("/sign-in").text)
    body, headers = post.body(token)
    address = START + (f"?next={quote(next_page, safe='')}" if next_page is not None else "")
    started = send(browser, address, body, headers)
    assert started.status_code < 500, f"POST {address}: {started.status_code}"
    real_state = None
    if started.status_code == 302 and started.location.startswith(provider.issuer):
        real_state = parse_qs(urlsplit(started.location).query)["state"][0]
    query = dict(extra)
    if code is not None:
        query["code"] = code
    if state == "real" and real_state:
        query["state"] = real_state
    elif state == "other":
        query["state"] = "not-the-state"

    returned = browser.get(CALLBACK, query_string=query)

    assert returned.status_code < 500, f"GET {CALLBACK} {query}: {returned.status_code}"
    assert returned.status_code in (302, 400, 502), returned.status_code
    assert who_is_signed_in(browser) is None
    assert database_rows() == before
