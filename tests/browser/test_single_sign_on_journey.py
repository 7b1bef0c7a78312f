"""Single sign-on in real Chromium, through the real test provider (tests/oidc_helpers.py).

Our pages are checked with axe and photographed; the provider's are not ours to judge.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from feedback360.accounts.services import add_person
from feedback360.extensions import db
from tests.oidc_helpers import Provider, oidc_provider

pytestmark = pytest.mark.suite_database


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    with oidc_provider(tmp_path_factory.mktemp("oidc")) as running:
        yield running


def with_single_sign_on_only(app: Flask, provider: Provider) -> None:
    """Register the served app at the provider, as its administrator would, and turn
    single sign-on on (password sign-in off) before anyone visits."""
    client = provider.register(app.config["BASE_URL"])
    app.config.update(provider.settings(client, PASSWORD_SIGN_IN=False))


def signs_in_at_the_provider(page, login: str) -> None:  # type: ignore[no-untyped-def]
    """From our sign-in page: the button, then at the provider who they are and their
    consent to share their email address."""
    page.get_by_role("button", name="Sign in with your organisation account").click()
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("their password there")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()


def test_a_member_of_staff_signs_in_and_out_with_their_organisation_account(
    live_app, new_page, visits, provider
):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect  # here: without Playwright the tests skip

    with_single_sign_on_only(live_app, provider)
    add_person("Sam Taylor", "sam@example.org")  # on the staff list, with no password
    db.session.commit()
    provider.set_accounts({"sam-at-work": {"claims": {"email": "sam@example.org"}}})
    page = new_page(375)

    page.goto("/sign-in")
    expect(page.locator("main button")).to_have_count(1)
    visits.check(page, "sign-in")
    signs_in_at_the_provider(page, "sam-at-work")

    expect(page.locator("header .who")).to_have_text("Sam Taylor")
    visits.check(page, "home")

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Yes, sign me out").click()  # at the provider

    expect(page.locator("main")).to_contain_text("You have signed out.")
    expect(page.locator("header")).not_to_contain_text("Sam Taylor")
    visits.check(page, "signed-out")
    page.goto("/")
    expect(page.locator("main button")).to_have_text("Sign in with your organisation account")

    # Someone the provider knows but who is not on the staff list is told so.
    provider.set_accounts({"visitor": {"claims": {"email": "visitor@example.org"}}})
    stranger = new_page()
    stranger.goto("/sign-in")
    signs_in_at_the_provider(stranger, "visitor")
    expect(stranger.locator("h1")).to_have_text("You are not on the staff list")
    visits.check(stranger, "not-on-the-staff-list")
