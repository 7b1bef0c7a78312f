"""What a screen reader hears on a page with errors: each message tied to its control, the
control marked invalid, a title that begins "Error: ", and the words of the rating pages."""

from __future__ import annotations

import re
import tokenize
from html.parser import HTMLParser
from pathlib import Path

from feedback360.extensions import db
from feedback360.feedback.answers import MAX_COMMENT
from feedback360.feedback.models import FeedbackRequest
from tests.conftest import PASSWORD, page_text, sign_in, submit_form
from tests.test_value_pages import answers_for, draft_of, self_pages

ROOT = Path(__file__).resolve().parents[1]


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))


def elements(html: str, tag: str | None = None, **wanted: str) -> list[dict[str, str]]:
    """The attributes of each element of the page with these attribute values."""
    parser = _Elements()
    parser.feed(html)
    return [
        attrs
        for name, attrs in parser.elements
        if (tag is None or name == tag) and all(attrs.get(k) == v for k, v in wanted.items())
    ]


def the(html: str, element_id: str) -> dict[str, str]:
    (found,) = elements(html, id=element_id)
    return found


def title(html: str) -> str:
    match = re.search(r"<title>(.*?)</title>", html, re.S)
    assert match, "the page has no title"
    return " ".join(match.group(1).split())


def described_by(attrs: dict[str, str]) -> list[str]:
    return attrs.get("aria-describedby", "").split()


def test_a_comment_too_long_is_tied_to_its_box_and_the_title_says_error(invited, client, framework):
    link = invited()["rater1@example.org"]
    value = framework.values[0]
    box = f"c{value.id}"
    response = submit_form(
        client, f"{link}/values/1", {box: "x" * (MAX_COMMENT + 1), "action": "next"}
    )

    assert response.status_code == 400
    html = response.text
    assert title(html).startswith("Error: Value 1 of")
    textarea = the(html, box)
    assert textarea["aria-invalid"] == "true"
    assert f"{box}-error" in described_by(textarea)
    assert f"shorten this comment to {MAX_COMMENT}" in page_text(html.split(f'id="{box}-error"')[1])
    assert f'href="#{box}"' in html  # the summary's link to the box
    # The page moves focus to the summary with a script of its own (no inline script).
    assert "/static/error_summary.js" in html
    assert "<script>" not in html
    with client.get("/static/error_summary.js") as script:
        assert ".error-summary" in script.text
        assert "focus()" in script.text


def test_a_statement_sent_back_to_is_described_by_its_error(invited, client, framework):
    link = invited()["rater1@example.org"]
    first = framework.values[0]
    answers = answers_for(first)
    gap = first.statements[0]
    answers.pop(f"s{gap.id}")
    submit_form(client, f"{link}/values/1", {**answers, "action": "save"})

    html = client.get(f"{link}/values/1?check=1").text

    assert title(html).startswith("Error: ")
    assert described_by(the(html, f"s{gap.id}")) == [f"s{gap.id}-error"]
    assert "Choose a rating" in page_text(html.split(f'id="s{gap.id}-error"')[1])
    radios = elements(html, "input", name=f"s{gap.id}")
    assert len(radios) == len(framework.scale) + 1
    assert all(radio.get("aria-invalid") == "true" for radio in radios)
    # Answered statements are not marked.
    answered = first.statements[1]
    assert "aria-describedby" not in the(html, f"s{answered.id}")
    assert not any("aria-invalid" in r for r in elements(html, "input", name=f"s{answered.id}"))


def test_the_whole_form_ties_each_missing_answer_to_its_statement(invited, client, framework):
    link = invited()["rater1@example.org"]
    first = framework.values[0]
    response = submit_form(client, f"{link}/form", {**answers_for(first), "action": "submit"})

    assert response.status_code == 400
    html = response.text
    assert title(html).startswith("Error: Feedback for Sam Taylor")
    missing = framework.values[1].statements[0]
    assert described_by(the(html, f"s{missing.id}")) == [f"s{missing.id}-error"]
    assert the(html, f"s{missing.id}-error")
    assert "aria-describedby" not in the(html, f"s{first.statements[0].id}")


def test_the_summary_refusal_says_error_in_the_title(invited, client, framework):
    link = invited()["rater1@example.org"]
    response = submit_form(client, f"{link}/summary", {"action": "submit"})
    assert response.status_code == 400
    assert title(response.text).startswith("Error: Check your answers")
    assert elements(response.text, "div", **{"class": "error-summary", "tabindex": "-1"})


def test_a_page_without_errors_says_nothing_of_them(invited, client, framework):
    link = invited()["rater1@example.org"]
    html = client.get(f"{link}/values/1").text
    assert not title(html).startswith("Error")
    assert "aria-invalid" not in html
    assert "error_summary.js" not in html
    assert not title(client.get("/sign-in").text).startswith("Error")


def test_a_refused_sign_in_says_error_in_the_title(app, make_person):
    make_person("Sam Taylor", "sam@example.org")
    client = app.test_client()
    html = submit_form(client, "/sign-in", {"email": "sam@example.org", "password": ""}).text
    assert title(html).startswith("Error: Sign in")
    assert the(html, "password")["aria-invalid"] == "true"
    assert "/static/error_summary.js" in html


def test_sign_in_and_password_fields_say_what_to_fill_in(app, make_person):
    client = app.test_client()
    sign_in_page = client.get("/sign-in").text
    assert the(sign_in_page, "email")["autocomplete"] == "email"
    assert the(sign_in_page, "password")["autocomplete"] == "current-password"

    make_person("Sam Taylor", "sam@example.org")
    sign_in(client, "sam@example.org", PASSWORD)
    change = client.get("/account/password").text
    assert the(change, "current")["autocomplete"] == "current-password"
    assert the(change, "password")["autocomplete"] == "new-password"
    assert the(change, "confirm")["autocomplete"] == "new-password"


def test_each_comment_box_says_how_many_characters_it_takes(invited, client, framework):
    link = invited()["rater1@example.org"]
    value = framework.values[0]
    for page in (f"{link}/values/1", f"{link}/form"):
        html = client.get(page).text
        box = the(html, f"c{value.id}")
        assert f"c{value.id}-count" in described_by(box)
        count = the(html, f"c{value.id}-count")
        assert count["data-character-limit"] == str(MAX_COMMENT)
        assert "Up to 5,000 characters." in page_text(html.split(f'id="c{value.id}-count"')[1])
        assert "/static/rating.js" in html  # which counts down as the rater types
    with client.get("/static/rating.js") as script:
        assert '" left"' in script.text
        assert "data-character-limit" in script.text
        assert 'setAttribute("aria-live", "polite")' in script.text


def test_no_page_or_message_writes_a_plural_in_brackets():
    """ "1 report", "2 reports": never "report(s)", in a template or a Python string."""
    bracketed = re.compile(r"[A-Za-z]\(s\)")
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in ROOT.joinpath("templates").rglob("*.html")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if bracketed.search(line)
    ]
    for path in ROOT.joinpath("feedback360").rglob("*.py"):
        with path.open("rb") as source:
            found += [
                f"{path.relative_to(ROOT)}:{token.start[0]}"
                for token in tokenize.tokenize(source.readline)
                if token.type == tokenize.STRING and bracketed.search(token.string)
            ]
    assert found == []


def test_the_self_assessment_words_not_seen_for_oneself(app, make_person, open_cycle, framework):
    browser, self_page = self_pages(app, make_person, open_cycle)
    page = page_text(browser.get(f"{self_page}/values/1").text)
    assert "Not sure / does not apply to me" in page
    assert "Not seen" not in page
    # The choice is stored as a rater's "not seen" is, so the report reads it the same way.
    statement = framework.values[0].statements[0]
    submit_form(browser, f"{self_page}/values/1", {f"s{statement.id}": "na", "action": "save"})
    request = db.session.scalars(db.select(FeedbackRequest)).one()
    db.session.refresh(request)
    assert request.self_draft["ratings"] == {str(statement.id): "na"}
    again = browser.get(f"{self_page}/values/1").text
    assert f'name="s{statement.id}" value="na" checked' in again
    refused = submit_form(browser, f"{self_page}/summary", {"action": "submit"}).text
    assert "“Not sure / does not apply to me”" in page_text(refused)
    assert "Not seen" not in page_text(refused)
    whole = page_text(browser.get(self_page).text)
    assert "Not sure / does not apply to me" in whole
    assert "Not seen" not in whole


def test_raters_still_read_not_seen(invited, client, framework):
    link = invited()["rater1@example.org"]
    statement = framework.values[0].statements[0]
    submit_form(client, f"{link}/values/1", {f"s{statement.id}": "na", "action": "save"})
    assert draft_of("rater1@example.org")["ratings"] == {str(statement.id): "na"}
    page = page_text(client.get(f"{link}/values/1").text)
    assert "Not seen / can’t say" in page
    assert "Not sure" not in page
