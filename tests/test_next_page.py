"""After signing in, the page asked for, but only a page of this site: `next` cannot send the
browser elsewhere however it is written, and nothing in it breaks the sign-in."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, submit_form

HOME = "/"

# As an attacker would type them into the address: what follows "?next=".
ELSEWHERE = [
    "/%09/evil.example/",  # the tab is dropped by browsers: //evil.example/
    "/%0d%0a/evil.example/",
    "%0d%0a//evil.example",
    "%0aSet-Cookie:%20planted=1",
    "//evil.example",
    "///evil.example",
    "////evil.example/x",
    "%20//evil.example",
    "/%5Cevil.example",  # browsers read a backslash as a slash: //evil.example
    "/%5C/evil.example",
    "%5C%5Cevil.example",
    "/%2F%2Fevil.example",
    "/%252F%252Fevil.example",  # encoded twice
    "/%255Cevil.example",
    "/.//evil.example",
    "/%2e%2e//evil.example",
    "https://evil.example/",
    "HTTPS://evil.example/",
    "https:evil.example",
    "https:/%5Cevil.example",
    "//127.0.0.1@evil.example",
    "//%5Bevil.example",  # a host urlsplit cannot read
    "/%252F%252F%5B",
    "javascript:alert(1)",
    "java%09script:alert(1)",
    "%20javascript:alert(1)",
    "data:text/html,hello",
    "evil.example",
    "",
]


@pytest.mark.parametrize("asked_for", ELSEWHERE)
def test_no_next_sends_the_browser_to_another_site(client, make_person, asked_for):
    make_person("Sam Taylor", "sam@example.org")
    response = signed_in_from(client, asked_for)
    assert response.status_code == 302
    assert response.location == HOME


@pytest.mark.parametrize(
    ("asked_for", "lands_on"),
    [
        ("/requests/1", "/requests/1"),
        ("/admin/people%3Fq%3Dkim%26page%3D2", "/admin/people?q=kim&page=2"),
        ("/reports/3/", "/reports/3/"),
        ("/requests/1%0d%0a", "/requests/1"),  # a stray line break is dropped, not obeyed
        ("/requests/1%0d%0aSet-Cookie:%20planted=1", "/requests/1Set-Cookie:%20planted=1"),
    ],
)
def test_a_page_of_this_site_is_returned_to(client, make_person, asked_for, lands_on):
    make_person("Sam Taylor", "sam@example.org")
    response = signed_in_from(client, asked_for)
    assert response.status_code == 302
    assert response.location == lands_on
    assert "planted" not in str(response.headers.getlist("Set-Cookie"))


def signed_in_from(client, asked_for: str):  # type: ignore[no-untyped-def]
    page = f"/sign-in?next={asked_for}"
    return submit_form(client, page, {"email": "sam@example.org", "password": PASSWORD})
