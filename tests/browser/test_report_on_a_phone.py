"""Issue 17: the personal report read on a phone, in real Chromium (WCAG 1.4.10 and 1.4.12).

At 320 and 375 pixels, and at 200 % zoom, also with the text spacing of WCAG 1.4.12 forced
on every element, the page never scrolls sideways: a statement table too wide for the screen
scrolls in its own box, which is a labelled region keys can reach; the charts are drawn for
the phone, their words 10 pixels or more; the page is one main landmark; axe finds nothing.
The coach reads their edition (the same page, with a page for the coach) at /coach/reports/<id>/.

200 % zoom: a 1280-pixel window zoomed to 200 % lays the page out in 640 CSS pixels, two
device pixels each. The test opens a 640-pixel viewport with a device scale factor of 2,
which is exactly that layout (Chromium's zoom itself cannot be set through Playwright).
"""

from __future__ import annotations

import pytest

from feedback360.closing import close_cycle
from feedback360.extensions import db
from feedback360.feedback import services
from feedback360.feedback.answers import Answers
from feedback360.reports.building import build_cycle_reports
from feedback360.reports.services import release_reports
from tests.browser.conftest import ARTIFACTS, CSP_WATCH, STICKING_OUT, axe_violations, describe
from tests.browser.test_browser_journeys import RATERS, seed_cycle, sign_in

pytestmark = pytest.mark.suite_database

# WCAG 1.4.12's spacing, forced on everything, as a reader's own style sheet would.
TEXT_SPACING = """
* { line-height: 1.5 !important; letter-spacing: 0.12em !important;
    word-spacing: 0.16em !important; }
p { margin-bottom: 2em !important; }
"""
# (name, viewport width, device scale factor, WCAG 1.4.12 spacing)
VIEWS = [
    ("320", 320, 1, False),
    ("375", 375, 1, False),
    ("320-spaced", 320, 1, True),
    ("375-spaced", 375, 1, True),
    ("zoom-200", 640, 2, False),
    ("zoom-200-spaced", 640, 2, True),
]
COMMENTS = [
    "Listens well, even on the busiest shifts.",
    "يستمع جيدا إلى الفريق 👍",
    "Read https://example.org/a-very-long-address-with-no-spaces-at-all-to-break-it-on",
    "总是认真倾听团队的意见",
]

# Every table fits the window, or scrolls in a labelled region that keys can reach.
TABLE_PROBLEMS = """() => {
  const edge = document.documentElement.clientWidth;
  const problems = [];
  for (const table of document.querySelectorAll("main table")) {
    const box = table.closest(".table-scroll");
    const name = (table.caption ? table.caption.textContent : table.getAttribute("aria-label"))
      || "a table";
    if (!box) {
      if (table.getBoundingClientRect().right > edge + 1) problems.push(name + ": too wide");
      continue;
    }
    if (box.getBoundingClientRect().right > edge + 1) problems.push(name + ": box too wide");
    const overflow = getComputedStyle(box).overflowX;
    if (overflow !== "auto" && overflow !== "scroll") problems.push(name + ": box cannot scroll");
    if (box.getAttribute("role") !== "region") problems.push(name + ": box is no region");
    if (box.getAttribute("tabindex") !== "0") problems.push(name + ": box not focusable");
    if (!(box.getAttribute("aria-label") || "").trim()) problems.push(name + ": box unnamed");
  }
  return problems;
}"""

# The smallest text in a shown chart, in CSS pixels, and how many charts are shown.
CHART_TEXT = """() => {
  const shown = [...document.querySelectorAll("svg.chart")]
    .filter((svg) => svg.getBoundingClientRect().width > 0);
  let smallest = Infinity;
  for (const svg of shown) {
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    for (const text of svg.querySelectorAll("text")) {
      smallest = Math.min(smallest, parseFloat(getComputedStyle(text).fontSize) * scale);
    }
  }
  return {shown: shown.length, smallest};
}"""


def released_report() -> int:
    """Sam's report, built and released: his self-ratings differ from his raters', and
    comments come in English, Arabic with an emoji, Chinese, and one long unbroken word."""
    cycle, request = seed_cycle()
    statements = request.cycle.framework.statements
    services.submit_self_assessment(request, Answers({s.id: 3 for s in statements}))
    value = request.cycle.framework.values[0]
    for n, (_, email) in enumerate(RATERS):
        invitation = next(i for i in request.invitations if i.email == email)
        ratings = {s.id: (5 if s.positive else 1) if n % 2 else 2 for s in statements}
        comments = {value.id: COMMENTS[n]} if n < len(COMMENTS) else {}
        services.submit_rater_response(invitation, Answers(ratings, comments))
    close_cycle(cycle)
    db.session.commit()
    build_cycle_reports(cycle)
    release_reports(cycle)
    db.session.commit()
    return request.id


def check_views(chromium, live_app, email: str, path: str, folder: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Every problem of the page at `path`, read by `email`, in each of VIEWS."""
    problems = []
    (ARTIFACTS / folder).mkdir(parents=True, exist_ok=True)
    # Signed in once: a coach's second factor takes a fresh code each time.
    first = chromium.new_context(base_url=live_app.config["BASE_URL"])
    first.set_default_timeout(15_000)
    sign_in(first.new_page(), email)
    signed_in = first.storage_state()
    first.close()
    for name, width, scale, spaced in VIEWS:
        # The page's Content-Security-Policy is left out so that the spacing can be added
        # as a reader's own style sheet is, which no page's policy applies to.
        context = chromium.new_context(
            base_url=live_app.config["BASE_URL"],
            viewport={"width": width, "height": 800},
            device_scale_factor=scale,
            bypass_csp=spaced,
            storage_state=signed_in,
        )
        context.set_default_timeout(15_000)
        context.add_init_script(CSP_WATCH)
        try:
            page = context.new_page()
            assert page.goto(path).status == 200, path
            if spaced:
                page.add_style_tag(content=TEXT_SPACING)
            if name in ("375", "zoom-200-spaced"):
                page.screenshot(path=str(ARTIFACTS / folder / f"{name}.png"), full_page=True)
            where = f"at {name}"
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if overflow > 0:
                culprits = "\n".join(f"    at {c}" for c in page.evaluate(STICKING_OUT))
                problems.append(f"{where} the page scrolls sideways by {overflow}px:\n{culprits}")
            problems += [f"{where}: {p}" for p in page.evaluate(TABLE_PROBLEMS)]
            charts = page.evaluate(CHART_TEXT)
            if not charts["shown"]:
                problems.append(f"{where}: no chart is shown")
            elif charts["smallest"] < 10:
                problems.append(f"{where}: chart text {charts['smallest']:.1f}px")
            landmarks = page.evaluate("() => document.querySelectorAll('main').length")
            if landmarks != 1:
                problems.append(f"{where}: {landmarks} main landmarks")
            violations = axe_violations(page)
            if violations:
                problems.append(f"{where}:\n{describe(violations)}")
            if not spaced and page.evaluate("() => window.__cspViolations || []"):
                problems.append(f"{where}: the Content-Security-Policy blocked something")
        finally:
            context.close()
    return problems


def test_the_report_reflows_on_a_phone_for_its_subject_and_their_coach(chromium, live_app):
    request_id = released_report()
    problems = check_views(
        chromium, live_app, "sam@example.org", f"/reports/{request_id}/", "report_on_a_phone"
    )
    problems += check_views(
        chromium,
        live_app,
        "cora@example.org",
        f"/coach/reports/{request_id}/",
        "report_on_a_phone_coach",
    )
    assert not problems, "\n".join(problems)
