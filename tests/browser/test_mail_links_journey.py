"""`make run PORT=5051`: a link mailed by the app leads back to the port it runs on."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.conftest import mailed_password_link, served_by_run


def test_a_mailed_link_opens_on_the_port_the_app_runs_on(chromium, tmp_path, monkeypatch):
    from playwright.sync_api import expect

    with served_by_run(tmp_path, monkeypatch) as (app, site):
        context = chromium.new_context()
        context.set_default_timeout(15_000)  # a loaded machine can take seconds per page
        page = context.new_page()
        page.goto(f"{site}/account/forgot-password")
        page.get_by_label("Email address").fill("sam.taylor@example.org")
        page.get_by_role("button", name="Send me a link").click()
        link = mailed_password_link(app)
        assert urlsplit(link).netloc == urlsplit(site).netloc

        page.goto(link)

        expect(page.get_by_role("heading", name="Set your password")).to_be_visible(timeout=15_000)
        context.close()
