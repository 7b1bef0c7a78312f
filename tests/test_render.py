"""The personal report as a reader sees it: in the browser and as a PDF."""

from __future__ import annotations

import io
import logging
import os
import re
import statistics
import subprocess
import sys
from dataclasses import replace
from datetime import date

import pypdf
import pytest

from feedback360.groups import ALL_RATERS, LABELS, OTHER_RATERS
from feedback360.reports.engine.results import (
    BLIND_SPOT,
    HIGHEST,
    IN_AGREEMENT,
    Agreement,
    Cell,
    Column,
    GroupStatus,
    Highlight,
    Norm,
    Pick,
    ReportDocument,
    ReportResult,
    ShownComment,
    StatementResult,
    StatementText,
    ValueResult,
    ValueText,
)
from feedback360.reports.render import (
    ReportURLFetcher,
    report_html,
    report_pdf,
    templates_dir,
)

SCRIPT = "<script>alert(1)</script>"
HIDDEN_REASON = "Fewer than 3 ratings"
POOLED_REASON = "Hidden so that fewer than 3 ratings cannot be worked out from others"
WITHHELD = "Only 2 people responded; at least 3 are needed to show rater scores."

STATEMENTS = [
    StatementText("think about how our actions affect others", True, 0),
    StatementText("encourage constructive feedback", True, 0),
    StatementText("act with integrity - be honest and tell it how it is", True, 0),
    StatementText("see time spent building relationships with others as pointless", False, 0),
    StatementText("work across boundaries - bringing different groups together", True, 1),
    StatementText("respect difference", True, 1),
    StatementText("ignore inappropriate behaviour or poor performance", False, 1),
    StatementText("value police officers and police staff differently", False, 1),
]

# Ratings by statement: self, line manager, peers, other raters (not seen = None).
RATINGS = [
    (4, [4], [5, 4, 4, 4], [3, 4, 4]),
    (5, [4], [4, 4, 5, 3], [4, 4, 5]),
    (4, [5], [5, 5, 4, 5], [5, 4, 5]),
    (1, [1], [1, 2, 1, 1], [1, 1, 2]),
    (3, [4], [5, 4, None, None], [4, 4, 5]),  # peers: too few; other raters hidden too
    (5, [4], [4, 5, 4, 4], [4, 5, 3]),
    (2, [3], [3, 3, 2, 4], [3, 4, None]),
    (1, [1], [1, 1, 1, 2], [1, 1, 1]),
]


def make_cell(ratings: list[int | None]) -> Cell:
    seen = [r for r in ratings if r is not None]
    return Cell(
        n=len(seen),
        not_seen=len(ratings) - len(seen),
        mean=statistics.fmean(seen),
        sd=statistics.pstdev(seen),
        low=min(seen),
        high=max(seen),
    )


def make_statement(index: int) -> StatementResult:
    own, manager, peers, pool = RATINGS[index]
    cells = {
        "self": make_cell([own]),
        "line_manager": make_cell(manager),
        "peer": make_cell(peers),
        OTHER_RATERS: make_cell(pool),
        ALL_RATERS: make_cell(manager + peers + pool),
    }
    if cells["peer"].n < 3:
        # As the engine does: 2 peer ratings would be All raters minus the shown cells.
        cells["peer"] = Cell(2, 2, None, None, None, None, hidden_reason=HIDDEN_REASON)
        cells[OTHER_RATERS] = replace(
            cells[OTHER_RATERS],
            mean=None,
            sd=None,
            low=None,
            high=None,
            hidden_reason=POOLED_REASON,
        )
    return StatementResult(index, cells, cells[ALL_RATERS].mean - own)


def sample_document(**changes) -> ReportDocument:
    statements = [make_statement(i) for i in range(len(STATEMENTS))]
    keys = ["self", "line_manager", "peer", OTHER_RATERS, ALL_RATERS]
    values = []
    for v in range(2):
        mine = [s for s in statements if STATEMENTS[s.index].value_index == v]
        scores = {}
        for key in keys:
            shown = [
                c.mean if STATEMENTS[s.index].positive else 6 - c.mean
                for s in mine
                if (c := s.cells[key]).mean is not None
            ]
            scores[key] = statistics.fmean(shown)
        values.append(ValueResult(v, scores, scores[ALL_RATERS] - scores["self"]))
    result = ReportResult(
        columns=[Column(key, LABELS[key], n) for key, n in zip(keys, [1, 1, 4, 3, 8], strict=True)],
        groups=[
            GroupStatus("self", "Self", 1, True),
            GroupStatus("line_manager", "Line manager", 1, True),
            GroupStatus("peer", "Peers", 4, True),
            GroupStatus("direct_report", "Direct reports", 2, False),
            GroupStatus("other", "Others", 1, False),
        ],
        total_responses=8,
        rater_scores_shown=True,
        withheld_reason=None,
        statements=statements,
        values=values,
        comments=[
            ShownComment(0, "Always makes time to listen, even on busy shifts.", "Peers"),
            ShownComment(0, f"Tried to break the report: {SCRIPT} & more", None),
            ShownComment(1, "Could challenge poor performance sooner.", None),
        ],
    )
    doc = ReportDocument(
        subject_name="Alex Morgan",
        subject_first_name="Alex",
        cycle_name="Autumn 2026",
        framework_name="MPS values 2006",
        preamble="Working together with all our citizens, all our partners and all our colleagues:",
        scale=["Never", "Rarely", "Sometimes", "Often", "Always"],
        generated_on=date(2026, 11, 23),
        threshold=3,
        values=[
            ValueText(
                "We will build trust by listening and responding.",
                "Be accessible and approachable. Build relationships.",
            ),
            ValueText(
                "We will respect and support each other and work as a team.",
                "Work to bring people together.",
            ),
        ],
        statements=STATEMENTS,
        result=result,
    )
    return replace(doc, **changes)


def highlight(statement: StatementResult) -> Highlight:
    return Highlight(
        statement.index,
        statement.cells[ALL_RATERS].mean,
        statement.cells["self"].mean,
        statement.outlook,
    )


def document_with_insights(**changes) -> ReportDocument:
    """The sample as the engine fills it: gaps read by polarity, flags, norms, highlights.

    Statement 6, "We will not ignore inappropriate behaviour", is seen 3.1 times out of 5 by
    raters against 2 by Alex: a plus gap that reads worse, a blind spot. Statement 4 is a
    hidden strength (3.0 against 4.3). Raters disagree on statement 1 (ratings 3 to 5).
    """
    doc = sample_document()
    statements = [
        replace(
            s,
            outlook=s.gap if STATEMENTS[s.index].positive else -s.gap,
            rwg=0.45 if s.index == 1 else 0.8,
            raters_disagree=s.index == 1,
        )
        for s in doc.result.statements
    ]
    by_index = {s.index: s for s in statements}
    values = [
        replace(
            doc.result.values[0],
            agreement=Agreement(IN_AGREEMENT, True),
            norm=Norm(24, 3.6, 4.0, 4.3, 62.0),
            change=0.3,
        ),
        replace(doc.result.values[1], agreement=Agreement(IN_AGREEMENT, True)),
    ]
    result = replace(
        doc.result,
        statements=statements,
        values=values,
        blind_spots=[highlight(by_index[6])],
        hidden_strengths=[highlight(by_index[4])],
        highest=[highlight(by_index[i]) for i in (2, 4, 1)],
        lowest=[highlight(by_index[i]) for i in (0, 1, 5)],
        most_seen_negative=[highlight(by_index[i]) for i in (6, 3, 7)],
        norm_subjects=24,
    )
    return replace(doc, result=replace(result, **changes))


def withheld_document() -> ReportDocument:
    doc = sample_document()
    result = replace(
        doc.result,
        columns=[Column("self", "Self", 1)],
        groups=[replace(g, shown=g.key == "self") for g in doc.result.groups],
        total_responses=2,
        rater_scores_shown=False,
        withheld_reason=WITHHELD,
        statements=[
            StatementResult(s.index, {"self": s.cells["self"]}, None) for s in doc.result.statements
        ],
        values=[ValueResult(v.index, {"self": v.scores["self"]}, None) for v in doc.result.values],
        comments=[ShownComment(0, "I find it hard to say no to people.", "Self")],
    )
    return replace(doc, result=result)


def pdf_text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def html_row(html: str, index: int) -> str:
    match = re.search(rf'<tr id="s-{index}">(.*?)</tr>', html, re.S)
    assert match, f"no row for statement {index}"
    return match.group(1)


def cell_text(row_html: str, key: str) -> str:
    match = re.search(rf'<td class="[^"]*\bc-{key}\b[^"]*">(.*?)</td>', row_html, re.S)
    assert match, f"no {key} cell"
    return re.sub(r"<[^>]+>", " ", match.group(1)).strip()


@pytest.fixture(scope="module")
def sample_pdf() -> bytes:
    return report_pdf(sample_document())


@pytest.fixture(scope="module")
def insights_text() -> str:
    return pdf_text(report_pdf(document_with_insights()))


def test_pdf_opens_and_shows_the_subject_statements_means_and_gaps(sample_pdf):
    text = pdf_text(sample_pdf)
    doc = sample_document()

    assert "Alex Morgan" in text
    assert "Confidential" in text
    assert "23 November 2026" in text
    for statement in STATEMENTS:
        assert statement.text in text
    # The first statement's row reads: self, manager, peers, other raters, all, the
    # comparison in words, spread.
    assert "think about how our actions affect others 4.0 4.0 4.3 3.7 4.0 same as you 3–5" in text
    # A negative gap is said in words, with no sign to combine with the statement's kind.
    assert doc.result.statements[1].gap < 0
    assert "encourage constructive feedback 5.0 4.0 4.0 4.3 4.1 0.9 less often" in text
    assert "We will not — how often seen (lower is better)" in text


def test_pdf_is_tagged_a4_in_british_english(sample_pdf):
    reader = pypdf.PdfReader(io.BytesIO(sample_pdf))
    root = reader.trailer["/Root"]

    assert root["/Lang"] == "en-GB"
    assert "/StructTreeRoot" in root
    assert root["/MarkInfo"]["/Marked"]
    assert reader.metadata.title == "Feedback report: Alex Morgan, Autumn 2026"
    width, height = (float(x) for x in reader.pages[0].mediabox.upper_right)
    assert (round(width), round(height)) == (595, 842)


def test_every_chart_in_the_pdf_is_a_figure_with_its_numbers_as_alternative_text(sample_pdf):
    root = pypdf.PdfReader(io.BytesIO(sample_pdf)).trailer["/Root"]
    figures = []

    def collect(element):
        element = element.get_object()
        if not isinstance(element, pypdf.generic.DictionaryObject) or "/S" not in element:
            return
        if element["/S"] == "/Figure":
            figures.append(str(element.get("/Alt", "")))
        kids = element.get("/K", [])
        for kid in kids if isinstance(kids, pypdf.generic.ArrayObject) else [kids]:
            collect(kid)

    for element in root["/StructTreeRoot"]["/K"]:
        collect(element)

    assert figures == [
        "We will build trust by listening and responding. Scores on a scale from 1 (Never) "
        "to 5 (Always): Self 4.5; Line manager 4.5; Peers 4.4; Other raters 4.3; All raters 4.4.",
        "We will respect and support each other and work as a team. Scores on a scale from 1 "
        "(Never) to 5 (Always): Self 4.3; Line manager 4.0; Peers 4.0; Other raters 3.8; "
        "All raters 4.0.",
    ]


def test_pages_carry_the_subject_and_page_numbers(sample_pdf):
    reader = pypdf.PdfReader(io.BytesIO(sample_pdf))
    pages = len(reader.pages)
    second = reader.pages[1].extract_text()

    assert "Alex Morgan · Autumn 2026" in second
    assert f"Page 2 of {pages}" in second


def test_a_hidden_cell_shows_its_reason_and_no_number(sample_pdf):
    row = html_row(report_html(sample_document()), 4)
    peers, pool = cell_text(row, "peer"), cell_text(row, "other_raters")

    assert peers == HIDDEN_REASON
    # A reason too long for a narrow cell becomes a note under the table.
    assert pool == "Not shown (note 1)"
    assert (
        "work across boundaries - bringing different groups together 3.0 4.0 "
        f"{HIDDEN_REASON} Not shown (note 1) 4.3 1.3 more often"
    ) in pdf_text(sample_pdf)
    assert f"Note 1: {POOLED_REASON}." in pdf_text(sample_pdf)


def test_hidden_groups_give_no_number_of_their_own():
    html = report_html(sample_document())
    row = re.search(r"<th scope=\"row\">Direct reports</th>\s*<td[^>]*>(.*?)</td>", html, re.S)

    assert row
    assert row.group(1) == (
        "Not shown on its own, to protect anonymity: included in Other raters and All raters"
    )


def test_a_hidden_group_is_never_said_to_be_in_a_column_that_is_not_shown():
    doc = sample_document()
    only_manager = [c for c in doc.result.columns if c.key in ("self", "line_manager")]
    html = report_html(replace(doc, result=replace(doc.result, columns=only_manager)))
    row = re.search(r"<th scope=\"row\">Peers</th>\s*<td[^>]*>(.*?)</td>", html, re.S)

    assert row
    assert row.group(1) == "4"
    assert "included in" not in html
    assert "Not shown, to protect anonymity</td>" in html


def test_withheld_rater_scores_say_why_and_show_only_self():
    doc = withheld_document()
    html = report_html(doc)
    text = pdf_text(report_pdf(doc))

    assert WITHHELD in text
    assert "Rater scores are not shown" in text
    assert "All raters 4.0" not in text
    assert "c-all_raters" not in html
    assert "think about how our actions affect others 4.0 " in text
    assert "Comments from raters are not shown" in text
    assert "Self: I find it hard to say no to people." in text


def test_a_comment_is_shown_verbatim_and_never_as_markup(sample_pdf):
    html = report_html(sample_document())

    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert f"Tried to break the report: {SCRIPT} & more" in pdf_text(sample_pdf)
    assert "Peers: Always makes time to listen, even on busy shifts." in pdf_text(sample_pdf)


def test_the_html_is_british_english_and_every_chart_has_a_text_alternative():
    html = report_html(sample_document())
    charts = re.findall(r"<svg\b[^>]*>.*?</svg>", html, re.S)

    assert '<html lang="en-GB">' in html
    # Each value's chart, and the same drawn for a phone's screen (the browser page only).
    assert len(charts) == 4
    assert sum('class="chart dot-plot phone"' in chart for chart in charts) == 2
    for chart in charts:
        assert 'role="img"' in chart
        assert re.search(r'aria-label="[^"]+"', chart)
        assert re.search(r"<title>[^<]+</title>", chart)
    assert "Self 4.5; Line manager 4.5; Peers 4.4; Other raters 4.3; All raters 4.4" in charts[0]
    assert "<img" not in html
    assert "<script" not in html


def test_the_download_link_is_in_the_browser_page_only():
    doc = sample_document()

    assert 'href="/reports/7.pdf">Download PDF' in report_html(doc, pdf_url="/reports/7.pdf")
    assert "Download PDF" not in report_html(doc, pdf_url="/reports/7.pdf", for_pdf=True)
    assert "Download PDF" not in report_html(doc)


def test_rendering_logs_no_warnings(caplog):
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        report_pdf(sample_document())
    # Only speed suffers where the system lacks libharfbuzz-subset; the PDF is the same.
    slow_fonts = "Using fontTools instead of HarfBuzz-Subset"
    messages = [r.getMessage() for r in caplog.records]

    assert [m for m in messages if not m.startswith(slow_fonts)] == []


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/x.png",
        "https://example.com/x.css",
        "file:///etc/passwd",
        "file://localhost/etc/passwd",
        "ftp://example.com/x",
    ],
)
def test_the_url_fetcher_refuses_anything_outside_the_report(url):
    with pytest.raises(ValueError, match="may not fetch"):
        ReportURLFetcher().fetch(url)


def test_the_url_fetcher_refuses_a_path_that_climbs_out_of_the_templates():
    escape = (templates_dir() / "reports" / ".." / ".." / ".." / "etc" / "passwd").as_posix()

    with pytest.raises(ValueError, match="may not fetch"):
        ReportURLFetcher().fetch("file://" + escape)


def test_the_url_fetcher_allows_data_urls_and_our_own_stylesheet():
    fetcher = ReportURLFetcher()
    data = fetcher.fetch("data:text/plain;base64,aGVsbG8=")
    own = fetcher.fetch((templates_dir() / "reports" / "report.css").as_uri())

    assert data.read() == b"hello"
    assert b"@page" in own.read()
    data.close()
    own.close()


def test_a_we_will_not_statement_seen_more_often_than_you_think_is_a_blind_spot(insights_text):
    # Alex says 2 (Rarely) for ignoring poor performance; raters say 3.1: others see worse.
    assert "Blind spots and hidden strengths" in insights_text
    assert (
        "We will not ignore inappropriate behaviour or poor performance (value 2) 2.0 3.1 "
        "1.1 more often"
    ) in insights_text
    assert (
        "We will work across boundaries - bringing different groups together (value 2) 3.0 4.3 "
        "1.3 more often"
    ) in insights_text


def gap_cell(html: str, index: int) -> tuple[str, list[str]]:
    """A value table row's gap cell: its class and its words."""
    cell = re.search(r'<td class="(num gap[^"]*)">(.*?)</td>', html_row(html, index), re.S)
    return cell.group(1), re.sub(r"<[^>]+>", " ", cell.group(2)).split()


def test_in_the_value_tables_a_gap_says_whether_others_see_better_or_worse():
    html = report_html(document_with_insights())

    # Seen more often reads "worse" for a "We will not" statement, "better" for "We will".
    assert gap_cell(html, 3) == ("num gap", ["0.3", "more", "often", "worse"])
    assert gap_cell(html, 2) == ("num gap", ["0.8", "more", "often", "better"])
    assert gap_cell(html, 0) == ("num gap", ["same", "as", "you"])


def test_blind_spots_and_hidden_strengths_are_named_and_shaded_in_the_value_tables():
    html = report_html(document_with_insights())

    assert gap_cell(html, 6) == (
        "num gap marked blind-spot",
        ["1.1", "more", "often", "blind", "spot"],
    )
    assert gap_cell(html, 4) == ("num gap marked", ["1.3", "more", "often", "hidden", "strength"])


def test_the_insight_lists_show_at_most_the_settings_count_and_say_how_many_more():
    many = [Highlight(i, 2.0, 4.0, -2.0) for i in range(7)]
    html = report_html(document_with_insights(blind_spots=many[:5], possible_blind_spots=many[5:]))
    blind_spots = html.split("Blind spots: others see worse")[1].split("</section>")[0]

    assert blind_spots.count("<tr>") == 1 + 5  # the head row and five statements
    assert (
        "2 more statements with a gap of 1.0 or more are marked “possible blind spot” in the "
        "value sections"
    ) in blind_spots


def test_raters_disagree_is_marked_in_words_and_explained(insights_text):
    html = report_html(document_with_insights())

    assert "disagree" in html_row(html, 1)
    assert "disagree" not in html_row(html, 0)
    assert (
        "encourage constructive feedback 5.0 4.0 4.0 4.3 4.1 0.9 less often worse 3–5 disagree"
        in (insights_text)
    )
    assert "Raters disagree where rwg is below 0.5" in insights_text


def test_the_start_page_picks_strengths_and_priorities_and_negatives_seen_most_are_listed():
    doc = document_with_insights()
    picks = {
        "strengths": [Pick(doc.result.highest[0].statement_index, HIGHEST)],
        "priorities": [Pick(doc.result.blind_spots[0].statement_index, BLIND_SPOT)],
    }
    insights_text = pdf_text(report_pdf(replace(doc, result=replace(doc.result, **picks))))
    strengths = insights_text.index("Your strengths")
    priorities = insights_text.index("Your priorities", strengths)
    negatives = insights_text.index("Negative behaviours seen most often")

    # The highest rated "We will" at the good score (4.0) or more, in words and numbers.
    assert (
        "We will act with integrity - be honest and tell it how it is (value 1). Your raters"
        " see it at 4.8 (between Often and Always); you said 4.0."
    ) in insights_text[strengths:priorities]
    # The blind spot is the first priority.
    assert (
        "We will not ignore inappropriate behaviour or poor performance (value 2). A blind"
        " spot: others see it 1.1 more often than you do (all raters 3.1, you 2.0)."
    ) in insights_text[priorities:]
    assert (
        "We will not value police officers and police staff differently (value 2) 1.0 1.1 "
        "0.1 more often, worse" in (insights_text[negatives:])
    )


def test_the_summary_gives_agreement_change_and_where_you_stand_in_the_cycle(insights_text):
    html = report_html(document_with_insights())
    first_chart = re.findall(r"<svg\b[^>]*>.*?</svg>", html, re.S)[0]

    assert (
        "Self-other agreement: In agreement, rated well · Your raters’ score: up 0.3 since your "
        "last report · Higher than 62% of the 24 people in this cycle"
    ) in insights_text
    assert "This cycle (24 people): middle half 3.6 to 4.3, median 4.0" in first_chart
    # The second value has no change and no norm: nothing is made up for it.
    second = insights_text.index("2. We will respect and support each other and work as a team.")
    assert "since your last report" not in insights_text[second : second + 400]
    assert "appears only when at least 10 people" not in insights_text


def test_without_cycle_norms_the_summary_says_when_they_appear():
    doc = document_with_insights(norm_subjects=0)
    doc = replace(
        doc,
        result=replace(doc.result, values=[replace(v, norm=None) for v in doc.result.values]),
    )
    text = pdf_text(report_pdf(doc))

    assert (
        "No comparison with the rest of the cycle is shown: it appears only when at least 10"
        in text
    )
    assert "This cycle" not in " ".join(re.findall(r"<svg\b.*?</svg>", report_html(doc), re.S))


def test_empty_lists_say_so_in_a_sentence():
    doc = document_with_insights(
        blind_spots=[], hidden_strengths=[], highest=[], lowest=[], most_seen_negative=[]
    )
    text = pdf_text(report_pdf(doc))

    assert (
        "No statement has a gap of 1.0 or more where others see you less favourably than you "
        "see yourself."
    ) in text
    assert (
        "No statement has a gap of 1.0 or more where others see you more favourably than you "
        "see yourself."
    ) in text
    assert "No “We will not” statement has a score from all raters to list here." in text


def test_withheld_rater_scores_leave_the_lists_empty_and_say_why():
    text = pdf_text(report_pdf(withheld_document()))

    assert f"These lists need rater scores, which are not shown in this report. {WITHHELD}" in text
    assert "No statement has a gap" not in text
    assert "Self-other agreement:" not in text


def test_the_appendix_explains_what_the_report_points_out(insights_text):
    how = insights_text[insights_text.index("Appendix: how this report is worked out") :]

    for term in (
        "Hidden strength or blind spot. Others see you better or worse by 1.0 or more, at "
        "least 3 rated it and they agree",
        "Otherwise a gap as large is possible.",
        "0.5 or more, on a scale from 0 to 1",
        "Self-other agreement. Per value",
        "Cycle comparison. Where the middle half of the 24 people",
        "Seen more often is better for a “We will”, worse for a “We will not”",
    ):
        assert term in how


def test_a_process_that_makes_the_app_and_renders_a_pdf_exits_cleanly(tmp_path):
    # The order the app's modules load WeasyPrint's libraries in once made such a process
    # crash as it exited (exit status 139), which a command like `reports build` shows.
    script = (
        "from feedback360 import create_app\n"
        "create_app()\n"
        "from feedback360.reports.render import pdf_of_page\n"
        "assert pdf_of_page('<p>Hello</p>').startswith(b'%PDF')\n"
    )
    env = {**os.environ, "FEEDBACK360_INSTANCE_PATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, timeout=120)

    assert done.returncode == 0, done.stderr.decode()
