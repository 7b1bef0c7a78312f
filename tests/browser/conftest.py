"""Real Chromium, driven by Playwright, against the app served on loopback.

Chromium comes from Debian's packages and axe-core from npm (`make test` installs both).
Without them the browser tests skip, unless FEEDBACK360_REQUIRE_BROWSER=1 (as on CI),
where a missing browser fails the run instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import running_app, serving

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts" / "screenshots"
REQUIRE_BROWSER = os.environ.get("FEEDBACK360_REQUIRE_BROWSER") == "1"
# No sandbox: it cannot start as root or in most containers, which is how CI runs.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# A small phone, a common phone and a desktop: no page may scroll sideways at any of them.
WIDTHS = (320, 375, 1280)
# Photographed at these (people look at them in test-artifacts/screenshots); 320 looks as
# 375 does, a little narrower.
SCREENSHOT_WIDTHS = (375, 1280)
# Every media query of the style sheets turns at 30rem or wider, so a page at 320 is laid out
# by the same rules as at 375, only narrower: there axe runs just the rules whose answer
# depends on what fits (a full run takes a third of a second on a small page).
NARROWEST_RULES = ["scrollable-region-focusable", "target-size"]
# The innermost elements reaching past the window's right edge, or whose own content (a long
# word, say) spills out of them past it, to say what to fix.
STICKING_OUT = """() => {
  const edge = document.documentElement.clientWidth + 1;
  const out = (e) => e.getBoundingClientRect().right > edge
    || e.getBoundingClientRect().left + e.scrollWidth > edge;
  return [...document.querySelectorAll("body *")]
    .filter((e) => out(e) && ![...e.children].some(out))
    .slice(0, 5)
    .map((e) => e.tagName.toLowerCase() + (e.className ? "." + e.className : "")
      + " \u201c" + e.textContent.trim().slice(0, 40) + "\u201d");
}"""
# How far the page reaches past the window, once the resized page has drawn a frame (measured
# straight after a resize, Chromium once reported a stale width on a loaded machine).
OVERFLOW = """() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() =>
  done(document.documentElement.scrollWidth - document.documentElement.clientWidth))))"""


def _missing(message: str) -> None:
    if REQUIRE_BROWSER:
        pytest.fail(message)
    pytest.skip(message)


# Per module, not per session: while Playwright runs, the main thread counts as inside an
# asyncio loop, so it must stop before the rest of the suite runs.
@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """One Chromium per test module; each person gets a fresh context (cookies, storage)."""
    if not CHROMIUM.exists():
        _missing(f"Chromium is not installed at {CHROMIUM} (run `make test` to install it)")
    if not AXE.exists():
        _missing(f"axe-core is not installed at {AXE} (run `make test` to install it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the Python package playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """The app on its own SQLite database and outbox, served on a free loopback port.

    The test keeps the app context for seeding with services; each request the browser
    makes runs in the server's own thread and context.
    """
    with running_app(tmp_path, monkeypatch) as app, serving(app):
        yield app


@pytest.fixture
def new_page(chromium, live_app: Flask) -> Iterator[Callable[..., object]]:
    """Opens pages in fresh browser contexts (one per person) at the server's address."""
    contexts = []

    def open_page(width: int = WIDTHS[-1]):  # type: ignore[no-untyped-def]
        context = chromium.new_context(
            base_url=live_app.config["BASE_URL"],
            viewport={"width": width, "height": 800},
            accept_downloads=True,
        )
        context.set_default_timeout(15_000)
        # Assertions wait as long as actions do: a loaded CI machine can take seconds per page.
        from playwright.sync_api import expect

        expect.set_options(timeout=15_000)
        # Whatever the Content-Security-Policy blocks on a page is recorded for Visits.check.
        context.add_init_script(CSP_WATCH)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


CSP_WATCH = """
document.addEventListener("securitypolicyviolation", (event) => {
  (window.__cspViolations = window.__cspViolations || []).push(
    event.violatedDirective + " " + (event.blockedURI || "inline") + " at " + event.sourceFile
      + ":" + event.lineNumber
  );
});
"""


def axe_violations(page, rules: list[str] | None = None) -> list[dict]:  # type: ignore[no-untyped-def]
    """axe-core's violations on the page as it is now, of any impact (of `rules` only, if
    given)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated, not added as a <script>: the page's CSP refuses inline scripts.
        page.evaluate(AXE.read_text())
    # Only violations are read: axe then skips describing every passing node (half its time).
    options: dict[str, object] = {"resultTypes": ["violations"]}
    if rules:
        options["runOnly"] = {"type": "rule", "values": rules}
    result = page.evaluate("async (options) => await window.axe.run(document, options)", options)
    return result["violations"]


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- [{violation['impact']}] {violation['id']}: {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    at {', '.join(map(str, node['target']))}")
    return "\n".join(lines)


class Visits:
    """Checks every page a journey visits with axe and saves it at each width."""

    def __init__(self, test_name: str) -> None:
        self.folder = ARTIFACTS / re.sub(r"[^\w-]+", "_", test_name)
        self.count = 0
        for old in self.folder.glob("*.png") if self.folder.exists() else []:
            old.unlink()

    def check(self, page, name: str, *, scrolls_sideways: bool = False) -> None:  # type: ignore[no-untyped-def]
        """Fails on axe violations of any impact and on a page wider than the window (unless
        the caller knows it is: `scrolls_sideways`) at each of WIDTHS; screenshots at
        SCREENSHOT_WIDTHS."""
        self.count += 1
        original = page.viewport_size
        self.folder.mkdir(parents=True, exist_ok=True)
        problems = []
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            if width in SCREENSHOT_WIDTHS:
                path = self.folder / f"{self.count:02d}-{name}-{width}.png"
                page.screenshot(path=str(path), full_page=True)
            overflow = page.evaluate(OVERFLOW)
            if overflow > 0 and not scrolls_sideways:
                culprits = "\n".join(f"    at {c}" for c in page.evaluate(STICKING_OUT))
                problems.append(
                    f"at {width} pixels wide the page scrolls sideways by {overflow}px:\n{culprits}"
                )
            violations = axe_violations(page, NARROWEST_RULES if width < 375 else None)
            if violations:
                problems.append(f"at {width} pixels wide:\n{describe(violations)}")
        blocked = page.evaluate("() => window.__cspViolations || []")
        if blocked:
            problems.append("the Content-Security-Policy blocked:\n    " + "\n    ".join(blocked))
        page.set_viewport_size(original)
        assert not problems, f"problems on {name} ({page.url}):\n" + "\n".join(problems)


@pytest.fixture
def visits(request: pytest.FixtureRequest) -> Visits:
    return Visits(request.node.name)
