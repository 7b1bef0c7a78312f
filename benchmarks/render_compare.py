"""Compare the render time of this tree's report with an earlier revision's, fairly.

Timings on this machine drift by a third between runs minutes apart, so two separate runs
of `report_build.py` cannot show a 10% difference. Instead each tree makes its own page for
print (from its own `report_build.py` subject) in a subprocess, and then this one process
renders the two pages with their own stylesheets in turn, alternating which goes first,
and compares the pairs. The HTML the build makes besides (the browser page, the coach's
pages) is timed in each tree's subprocess.

    git worktree add /tmp/base 90e106b
    .venv/bin/python benchmarks/render_compare.py /tmp/base --rounds 21
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from feedback360.reports.render import (
    BETWEEN_TAGS,
    ReportURLFetcher,
    _collecting_once,
    templates_dir,
)

HERE = Path(__file__).resolve().parent.parent

# Run in the tree's own code: its print page, and the time of all the HTML its build makes.
MAKE_PAGE = """
import sys, time
sys.path[:0] = [{tree!r}, {tree!r} + "/benchmarks"]
import report_build as rb
from datetime import date
from feedback360.reports import render
from feedback360.reports.engine.analysis import analyse_cycle
from feedback360.reports.engine.inputs import CycleSettings
from feedback360.reports.engine.results import ReportDocument
data, values, statements = rb.framework_texts()
settings = CycleSettings()
arrays = rb.cycle_arrays(statements, len(values), len(data["scale"]))
doc = ReportDocument(
    subject_name="Alex Morgan", subject_first_name="Alex", cycle_name="Spring 2026",
    framework_name=data["name"], preamble="", scale=list(data["scale"]),
    generated_on=date(2026, 3, 31), threshold=3, values=values, statements=statements,
    result=analyse_cycle(arrays, settings).report(0, rb.COMMENTS, seed=17),
)
if hasattr(render, "report_editions"):  # the subject's and the coach's pages, at once
    def pages():
        return render.report_editions(doc, settings, pdf_url="report.pdf")
else:
    def pages():
        render.report_html(doc, pdf_url="report.pdf", settings=settings)
pages()
began = time.process_time()
for _ in range(20):
    pages()
    page = render.report_html(doc, for_pdf=True, settings=settings)
print((time.process_time() - began) / 20 * 1000)
sys.stdout.write(page)
"""


def tree_page(tree: Path) -> tuple[str, float]:
    """The tree's page for print, and its build's HTML time in ms."""
    done = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", MAKE_PAGE.format(tree=str(tree))],
        capture_output=True,
        text=True,
        check=True,
    )
    html_ms, page = done.stdout.split("\n", 1)
    return page, float(html_ms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", type=Path, help="a worktree of the earlier revision")
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    fonts = FontConfiguration()
    trees = {"base": args.base.resolve(), "this tree": HERE}
    pages, styles, html_ms = {}, {}, {}
    for name, tree in trees.items():
        pages[name], html_ms[name] = tree_page(tree)
        styles[name] = CSS(
            filename=str(tree / "templates" / "reports" / "report.css"),
            url_fetcher=ReportURLFetcher(),
            font_config=fonts,
        )

    def render(name: str) -> float:
        html = HTML(
            string=BETWEEN_TAGS.sub("><", pages[name]),
            base_url=templates_dir().as_uri() + "/",
            url_fetcher=ReportURLFetcher(),
        )
        began = time.process_time()
        with _collecting_once():
            html.write_pdf(pdf_variant="pdf/ua-1", stylesheets=[styles[name]], font_config=fonts)
        return time.process_time() - began

    for name in trees:  # warm-up: fonts and caches
        render(name)
    times: dict[str, list[float]] = {name: [] for name in trees}
    for round_ in range(args.rounds):
        for name in list(trees)[:: 1 if round_ % 2 else -1]:
            times[name].append(render(name))
    for name in trees:
        pdf = statistics.median(times[name]) * 1000
        print(f"{name:>9}: PDF {pdf:6.0f} ms, HTML {html_ms[name]:5.1f} ms")
    ratios = [new / old for old, new in zip(times["base"], times["this tree"], strict=True)]
    print(f"PDF time, this tree over base, pair by pair: median {statistics.median(ratios):.3f},")
    print(f"  mean {statistics.mean(ratios):.3f}, over {args.rounds} pairs")


if __name__ == "__main__":
    main()
