"""Issue 6, journeys 1 and 2 in real Chromium: the staff member self-assesses and nominates;
raters answer value by value, leave, come back, finish and submit (one by keyboard alone).

Seeding uses services; everything the people in the journeys do, they do in the browser.
Every page visited is checked with axe and photographed at 375 and 1280 pixels wide.
"""

from __future__ import annotations

import re

import pytest

from feedback360.accounts.services import add_person
from feedback360.cycles.services import create_cycle
from feedback360.extensions import db
from feedback360.frameworks.services import bundled_framework, load_framework, read_framework_file
from tests.browser.test_browser_journeys import (
    CYCLE,
    mailed_link,
    seed_cycle,
    sees,
    sees_heading,
    sign_in,
)
from tests.conftest import PASSWORD, outbox_messages

# The app each journey is served by runs on the suite's database.
pytestmark = pytest.mark.suite_database

AUTOSAVE = "[data-autosave-status]"
STATEMENT = "fieldset.statement"
NOT_SEEN = "Not seen / can’t say"
NOT_SURE = "Not sure / does not apply to me"  # the same choice, on the self-assessment
# Typed into the nomination form (the other two come from the suggestions).
TYPED_RATERS = [
    ("Tara Typed", "tara@example.org", "Peer"),
    ("Uma Usher", "uma@example.org", "Peer"),
    ("Vic Vale", "vic@example.org", "Other"),
    ("Wes Ward", "wes@example.org", "Peer"),
]


def expect(target):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect as playwright_expect  # without Playwright: skip

    return playwright_expect(target)


def is_autosave(response) -> bool:  # type: ignore[no-untyped-def]
    return response.request.method == "POST" and "/values/" in response.url


def value_count(page) -> int:  # type: ignore[no-untyped-def]
    """How many values the form has, from the heading "Value n of N"."""
    text = page.locator("h1 .value-number").inner_text()
    return int(re.search(r"of (\d+)", text).group(1))  # type: ignore[union-attr]


def answer_page_by_mouse(
    page, rating: str = "4 Often", *, skip: int = 0, not_seen: str = NOT_SEEN
) -> None:  # type: ignore[no-untyped-def]
    """Choose `rating` for every statement on this value page after the first `skip`, and
    the choice of `not_seen` words for the second."""
    statements = page.locator(STATEMENT)
    for n in range(skip, statements.count()):
        choice = not_seen if n == 1 else rating
        statements.nth(n).get_by_role("radio", name=choice, exact=True).check()


def rated_on_page(page, rating: str = "4 Often", how_many: int | None = None) -> list[bool]:  # type: ignore[no-untyped-def]
    statements = page.locator(STATEMENT)
    count = statements.count() if how_many is None else how_many
    return [
        statements.nth(n).get_by_role("radio", name=rating, exact=True).is_checked()
        for n in range(count)
    ]


def test_a_staff_member_self_assesses_and_nominates_six_raters(live_app, new_page, visits):
    framework, _ = load_framework(read_framework_file(bundled_framework("mps-2006")))
    manager = add_person("Mia Manager", "mia@example.org", business_unit="Ops")
    add_person(
        "Sam Taylor",
        "sam@example.org",
        password=PASSWORD,
        business_unit="Ops",
        line_manager=manager,
    )
    add_person("Pat Peer", "pat@example.org", business_unit="Ops")
    for name, email, _ in TYPED_RATERS:  # on the staff list, in other units
        add_person(name, email, business_unit="Elsewhere")
    cycle = create_cycle(CYCLE, framework)
    cycle.open()
    db.session.commit()

    sam = new_page(1280)
    sam.goto("/sign-in")
    visits.check(sam, "sign-in")
    sign_in(sam, "sam@example.org")
    sees_heading(sam, "Your feedback")
    visits.check(sam, "home")
    sam.get_by_role("button", name=f"Ask for feedback in {CYCLE}").click()
    sees_heading(sam, CYCLE)
    sees(sam.locator(".next-step"), "Complete your self-assessment.")
    visits.check(sam, "request-new")

    # The self-assessment, value by value.
    sam.locator(".next-step").get_by_role("link", name="Start your self-assessment").click()
    expect(sam.locator("h1")).to_contain_text("Value 1 of")
    pages = value_count(sam)
    for number in range(1, pages + 1):
        expect(sam.locator("h1")).to_contain_text(f"Value {number} of {pages}")
        answer_page_by_mouse(sam, not_seen=NOT_SURE)
        if number == 1:
            comment = sam.get_by_label("Comments on this value (optional)")
            comment.fill("I try to lead by example.")
            # Left, then saved, before moving on. Moving on at once is its own test
            # (test_moving_on_straight_after_typing_…); here, about one run in ten under
            # load, a Next pressed as the box lost focus did nothing (see the closing note).
            with sam.expect_response(is_autosave):
                comment.blur()
            expect(sam.locator(AUTOSAVE)).to_contain_text("Saved at")
        visits.check(sam, f"self-value-{number}")
        sam.get_by_role("button", name=re.compile("^Next: ")).click()
    sees_heading(sam, "Check your answers before you submit")
    sees(sam, "I try to lead by example.")
    assert "Still to answer" not in sam.locator("main").inner_text()
    visits.check(sam, "self-summary")
    sam.get_by_role("button", name="Submit your self-assessment").click()
    sees_heading(sam, CYCLE)
    sees(sam, "Self-assessment submitted.")
    sees(sam.locator(".next-step"), "Nominate at least 5 raters.")
    visits.check(sam, "request-self-assessed")

    # Two from the suggestions (his line manager and a colleague), four typed in.
    sam.get_by_label("Ask Mia Manager").check()
    sam.get_by_label("Ask Pat Peer").check()
    sam.get_by_role("button", name="Add the people ticked").click()
    sees(sam, "2 people added to your list.")
    visits.check(sam, "request-suggested")
    for name, email, group in TYPED_RATERS:
        form = sam.locator("form").filter(has=sam.get_by_role("button", name="Add to my list"))
        form.get_by_label("Name").fill(name)
        form.get_by_label("Email address").fill(email)
        form.get_by_label("How they work with you").select_option(label=group)
        form.get_by_role("button", name="Add to my list").click()
        sees(sam, f"{name} added to your list.")
        visits.check(sam, f"request-added-{email.split('@')[0]}")
    raters = sam.get_by_role("region", name="Raters you have nominated")
    expect(raters.locator("tbody tr")).to_have_count(6)
    expect(raters.locator("tr", has_text="Mia Manager")).to_contain_text("Line manager")
    sees(sam.locator(".next-step"), "Send the invitations to the raters you have nominated.")
    sam.get_by_role("button", name="Send invitations").click()
    sees(sam, "6 invitations sent.")
    next_step = sam.locator(".next-step")
    sees(next_step, "Wait for your raters to respond (0 so far).")
    expect(next_step.get_by_role("link", name="See how your responses stand")).to_be_visible()
    expect(raters.locator("tbody tr", has_text="Not sent yet")).to_have_count(0)
    visits.check(sam, "request-sent")
    invited = {"mia@example.org", "pat@example.org"} | {email for _, email, _ in TYPED_RATERS}
    assert {m["To"] for m in outbox_messages(live_app)} == invited


def answer_by_mouse_and_leave(live_app, new_page, visits, email: str, width: int) -> None:  # type: ignore[no-untyped-def]
    """Open the link, answer three statements (each autosaved), close the page."""
    tag = f"{email.split('@')[0]}-{width}"
    rater = new_page(width)
    rater.goto(mailed_link(live_app, email))
    sees_heading(rater, "Sam Taylor has asked for your feedback")
    visits.check(rater, f"{tag}-start")
    rater.get_by_role("link", name="Start", exact=True).click()
    expect(rater.locator("h1")).to_contain_text("Value 1 of")
    statements = rater.locator(STATEMENT)
    for n in range(3):
        with rater.expect_response(is_autosave) as saved:
            statements.nth(n).get_by_role("radio", name="4 Often", exact=True).check()
        assert saved.value.ok
    expect(rater.locator(AUTOSAVE)).to_contain_text("Saved at")
    # Near the top of a long page, "Saved at" is still in sight: it keeps to the window's foot.
    assert in_window(rater, AUTOSAVE)
    # The counts follow the answers as they are chosen, not only when the page loads.
    expect(rater.locator(".progress-count")).to_contain_text("3 of ")
    expect(rater.locator("[data-count-page]")).to_have_text("3")
    visits.check(rater, f"{tag}-value-1-part")
    rater.context.close()


def in_window(page, selector: str) -> bool:  # type: ignore[no-untyped-def]
    """Whether the element is wholly inside the window as it is scrolled now."""
    return page.evaluate(
        """(selector) => { const box = document.querySelector(selector).getBoundingClientRect();
             return box.top >= 0 && box.bottom <= window.innerHeight && box.left >= 0
               && box.right <= window.innerWidth; }""",
        selector,
    )


def come_back_by_mouse_and_submit(live_app, new_page, visits, email: str, width: int) -> None:  # type: ignore[no-untyped-def]
    tag = f"{email.split('@')[0]}-{width}"
    rater = new_page(width)
    rater.goto(mailed_link(live_app, email))
    sees(rater, "Continue 3 of 46 statements answered.")
    visits.check(rater, f"{tag}-start-again")
    rater.get_by_role("link", name="Continue", exact=True).click()
    expect(rater.locator("h1")).to_contain_text("Value 1 of")
    assert rated_on_page(rater, how_many=3) == [True, True, True]
    sees(rater, "3 of ")
    pages = value_count(rater)
    for number in range(1, pages + 1):
        expect(rater.locator("h1")).to_contain_text(f"Value {number} of {pages}")
        answer_page_by_mouse(rater, skip=3 if number == 1 else 0)
        visits.check(rater, f"{tag}-value-{number}")
        if number == 2:
            # Next straight after typing: the box's autosave and the page's own post race.
            rater.get_by_label("Comments on this value (optional)").fill("Always listens.")
        rater.get_by_role("button", name=re.compile("^Next: ")).click()
    sees_heading(rater, "Check your answers before you submit")
    sees(rater, "Always listens.")
    assert "Still to answer" not in rater.locator("main").inner_text()
    visits.check(rater, f"{tag}-summary")
    rater.get_by_role("button", name="Submit your feedback").click()
    sees_heading(rater, "Thank you, your feedback has been sent")
    visits.check(rater, f"{tag}-thanks")


def focus_is_visible(page) -> None:  # type: ignore[no-untyped-def]
    style = page.evaluate(
        """() => { const s = getComputedStyle(document.activeElement);
                   return [s.outlineStyle, s.outlineWidth]; }"""
    )
    assert style[0] != "none", style
    assert style[1] != "0px", style


def tab_to(page, test: str, *, limit: int = 60) -> None:  # type: ignore[no-untyped-def]
    """Press Tab until `test` (JavaScript about `e`, the focused element) holds."""
    script = f"() => {{ const e = document.activeElement; return Boolean(e && ({test})); }}"
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(script):
            focus_is_visible(page)
            return
    raise AssertionError(f"Tab never reached an element where {test}")


def radio_is(page, label: str) -> str:  # type: ignore[no-untyped-def]
    return f"e.type === 'radio' && e.closest('label').innerText.trim() === {label!r}"


def keyboard_answers_statements(page, count: int) -> None:  # type: ignore[no-untyped-def]
    """From the first radio of an unanswered statement, rate `count` statements "4 Often"."""
    for n in range(count):
        if n:
            page.keyboard.press("Tab")  # on to the next statement's first choice
        assert page.evaluate("() => document.activeElement.type") == "radio"
        focus_is_visible(page)
        for _ in range(3):
            page.keyboard.press("ArrowRight")  # 2 Rarely, 3 Sometimes, 4 Often: each chosen
    focus_is_visible(page)


def test_raters_leave_come_back_and_submit_at_both_widths_and_by_keyboard(
    live_app, new_page, visits
):
    seed_cycle()

    # Two raters by mouse, on a phone and at a desk: they start, leave, then finish.
    answer_by_mouse_and_leave(live_app, new_page, visits, "rater1@example.org", 375)
    answer_by_mouse_and_leave(live_app, new_page, visits, "rater2@example.org", 1280)
    come_back_by_mouse_and_submit(live_app, new_page, visits, "rater1@example.org", 375)
    come_back_by_mouse_and_submit(live_app, new_page, visits, "rater2@example.org", 1280)

    # Rater 3 uses the keyboard alone.
    rater = new_page(1280)
    rater.goto(mailed_link(live_app, "rater3@example.org"))
    sees_heading(rater, "Sam Taylor has asked for your feedback")
    visits.check(rater, "keyboard-start")
    tab_to(rater, "e.tagName === 'A' && e.innerText.trim() === 'Start'")
    rater.keyboard.press("Enter")
    expect(rater.locator("h1")).to_contain_text("Value 1 of")
    tab_to(rater, "e.type === 'radio'")
    for n in range(3):  # "1 Never" for three statements, each saved before the next
        if n:
            rater.keyboard.press("Tab")
            focus_is_visible(rater)
        with rater.expect_response(is_autosave) as saved:
            rater.keyboard.press("Space")
        assert saved.value.ok
    expect(rater.locator(AUTOSAVE)).to_contain_text("Saved at")
    visits.check(rater, "keyboard-value-1-part")
    rater.context.close()

    rater = new_page(1280)
    rater.goto(mailed_link(live_app, "rater3@example.org"))
    visits.check(rater, "keyboard-start-again")
    tab_to(rater, "e.tagName === 'A' && e.innerText.trim() === 'Continue'")
    rater.keyboard.press("Enter")
    expect(rater.locator("h1")).to_contain_text("Value 1 of")
    assert rated_on_page(rater, "1 Never", how_many=3) == [True, True, True]
    pages = value_count(rater)
    for number in range(1, pages + 1):
        expect(rater.locator("h1")).to_contain_text(f"Value {number} of {pages}")
        total = rater.locator(STATEMENT).count()
        done = 3 if number == 1 else 0
        # The first unanswered statement's first choice (answered ones hold the checked one).
        first_id = rater.locator(STATEMENT).nth(done).get_attribute("id")
        tab_to(rater, f"e.type === 'radio' && e.closest('fieldset').id === {first_id!r}")
        keyboard_answers_statements(rater, total - done)
        rater.keyboard.press("Tab")
        assert rater.evaluate("() => document.activeElement.tagName") == "TEXTAREA"
        focus_is_visible(rater)
        if number == 1:
            rater.keyboard.type("Clear and kind.")
        rater.keyboard.press("Tab")
        assert rater.evaluate("() => document.activeElement.innerText").startswith("Next: ")
        focus_is_visible(rater)
        assert all(rated_on_page(rater)[done:])
        visits.check(rater, f"keyboard-value-{number}")
        rater.keyboard.press("Enter")
    sees_heading(rater, "Check your answers before you submit")
    sees(rater, "Clear and kind.")
    assert "Still to answer" not in rater.locator("main").inner_text()
    visits.check(rater, "keyboard-summary")
    tab_to(rater, "e.tagName === 'BUTTON' && e.innerText.trim() === 'Submit your feedback'")
    rater.keyboard.press("Enter")
    sees_heading(rater, "Thank you, your feedback has been sent")
    visits.check(rater, "keyboard-thanks")


def test_moving_on_straight_after_typing_keeps_every_word_and_asks_nothing(
    live_app, new_page, visits
):
    """A comment typed, then Next or Previous at once, while its autosave is on its way:
    the page moves, nothing is lost and the browser never asks "Leave site?"."""
    seed_cycle()
    rater = new_page(1280)
    dialogs: list[str] = []
    rater.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.accept()))
    rater.goto(mailed_link(live_app, "rater1@example.org"))
    rater.get_by_role("link", name="Start", exact=True).click()
    pages = value_count(rater)
    comment = rater.get_by_label("Comments on this value (optional)")
    # Forward through every value, back to the first, forward again: each move at once.
    route = [*range(1, pages + 1), *range(pages - 1, 0, -1), *range(2, pages + 1)]
    for step, (number, following) in enumerate(zip(route, route[1:], strict=False)):
        expect(rater.locator("h1")).to_contain_text(f"Value {number} of {pages}")
        comment.fill(f"Comment {step} on value {number}.")
        button = "^Next: " if following > number else "^Previous: "
        rater.get_by_role("button", name=re.compile(button)).click()
    expect(rater.locator("h1")).to_contain_text(f"Value {pages} of {pages}")
    answer_page_by_mouse(rater)
    # The last box typed in, then Tab to Next and Enter, as a keyboard user would.
    comment.fill("Last words.")
    tab_to(rater, "e.tagName === 'BUTTON' && e.innerText.startsWith('Next')")
    rater.keyboard.press("Enter")
    sees_heading(rater, "Check your answers before you submit")
    for number in range(1, pages):
        written = max(s for s, n in enumerate(route[:-1]) if n == number)
        sees(rater, f"Comment {written} on value {number}.")
    sees(rater, "Last words.")
    assert f"on value {pages}." not in rater.locator("main").inner_text()  # replaced
    assert dialogs == []
    visits.check(rater, "summary-after-quick-moves")


def test_an_answer_chosen_before_the_page_script_arrives_is_still_saved(live_app, new_page):
    """On a slow connection a rater can choose before rating.js has run: once it runs,
    that choice is saved like any other, and the page says so."""
    seed_cycle()
    rater = new_page(1280)
    held = []
    rater.route("**/static/rating.js", lambda route: held.append(route))  # held back
    rater.goto(mailed_link(live_app, "rater1@example.org"))
    rater.get_by_role("link", name="Start", exact=True).click()
    expect(rater.locator("h1")).to_contain_text("Value 1 of")
    first = rater.locator(STATEMENT).first
    first.get_by_role("radio", name="2 Rarely", exact=True).check()
    expect(rater.locator(AUTOSAVE)).not_to_contain_text("Saved at")
    with rater.expect_response(is_autosave) as saved:
        held[0].continue_()
    assert saved.value.ok
    expect(rater.locator(AUTOSAVE)).to_contain_text("Saved at")
    rater.context.close()

    rater = new_page(1280)
    rater.goto(mailed_link(live_app, "rater1@example.org"))
    rater.get_by_role("link", name="Continue", exact=True).click()
    assert rated_on_page(rater, "2 Rarely", how_many=1) == [True]


def focus_is_on_the_error_summary(page) -> None:  # type: ignore[no-untyped-def]
    expect(page).to_have_title(re.compile("^Error: "))
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    focus_is_visible(page)


def test_errors_take_the_focus_and_the_comment_box_counts_down(live_app, new_page, visits):
    """The box says how many characters are left as the rater types; a refused page moves
    focus to its list of problems, each tied to its control, and its title says "Error"."""
    seed_cycle()
    rater = new_page(375)
    rater.goto(mailed_link(live_app, "rater1@example.org"))
    rater.get_by_role("link", name="Start", exact=True).click()
    expect(rater.locator("h1")).to_contain_text("Value 1 of")
    box = rater.get_by_label("Comments on this value (optional)")
    count = rater.locator(".character-count")
    expect(count).to_have_text("You have 5,000 characters left.")
    box.fill("Kind.")
    expect(count).to_have_text("You have 4,995 characters left.")
    box.fill("x" * 5001)
    expect(count).to_have_text("1 character too many.")
    visits.check(rater, "comment-too-long")

    rater.get_by_role("button", name=re.compile("^Next: ")).click()
    focus_is_on_the_error_summary(rater)
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(box).to_have_accessible_description(re.compile("shorten this comment"))
    visits.check(rater, "comment-refused")

    box.fill("Kind.")
    rater.get_by_role("button", name="Check your answers and submit").click()
    sees_heading(rater, "Check your answers before you submit")
    rater.get_by_role("button", name="Submit your feedback").click()
    focus_is_on_the_error_summary(rater)
    visits.check(rater, "summary-refused")

    # The first gap's link leads to its statement, marked and described by its error.
    rater.locator(".error-summary a").first.click()
    statement = rater.locator(f"{STATEMENT}.field-error").first
    expect(statement).to_have_accessible_description(re.compile("Choose a rating"))
    expect(statement.get_by_role("radio", name=NOT_SEEN)).to_have_attribute("aria-invalid", "true")
    expect(rater).to_have_title(re.compile("^Error: "))
    visits.check(rater, "statement-to-answer")
