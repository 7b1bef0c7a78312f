"""Issue 15 in real Chromium: an administrator's first sign-in sets up the authenticator app
from its QR code (or key), keeps the recovery codes, and signs in with a code next time.
Every page is checked with axe and photographed at both widths."""

from __future__ import annotations

import pyotp
import pytest

from feedback360.accounts.services import add_person
from feedback360.extensions import db
from tests.browser.test_browser_journeys import sees, sees_heading
from tests.conftest import PASSWORD, authenticator_code

pytestmark = pytest.mark.suite_database


def password_step(page, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_an_administrator_sets_up_a_second_step_then_signs_in_with_it(live_app, new_page, visits):
    add_person("Ada Admin", "ada@example.org", password=PASSWORD, is_admin=True)
    db.session.commit()
    for width in (375, 1280):
        ada = new_page(width)
        if width == 375:
            password_step(ada, "ada@example.org")
            sees_heading(ada, "Set up a second step for signing in")
            assert ada.get_by_role("img", name="QR code to scan with your authenticator app")
            visits.check(ada, "second-factor-set-up")
            key = ada.locator(".setup-key").inner_text()
            ada.get_by_label("Code", exact=True).fill(pyotp.TOTP(key).now())
            ada.get_by_role("button", name="Confirm and sign in").click()
            sees_heading(ada, "Keep these recovery codes")
            assert ada.locator(".recovery-codes li").count() == 10
            visits.check(ada, "recovery-codes")
            ada.get_by_role("link", name="I have kept them: continue").click()
        else:
            password_step(ada, "ada@example.org")
            sees_heading(ada, "Type the code from your authenticator app")
            visits.check(ada, "second-factor-code")
            ada.get_by_label("Code", exact=True).fill(authenticator_code("ada@example.org"))
            ada.get_by_role("button", name="Sign in").click()
        sees(ada.locator("header"), "Sign out")
        ada.context.close()
