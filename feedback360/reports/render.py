"""Turn a ReportDocument into the personal report: HTML for the browser, PDF for download."""

from __future__ import annotations

import gc
import mimetypes
import re
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jinja2
from markupsafe import Markup
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from feedback360.feedback.answers import not_seen_words
from feedback360.groups import ALL_RATERS, LABELS, OTHER_RATERS, SELF
from feedback360.paths import PACKAGE_DIR, resource_dir
from feedback360.reports import charts
from feedback360.reports.engine.inputs import CycleSettings
from feedback360.reports.engine.results import (
    Cell,
    Column,
    ReportDocument,
    ReportResult,
    ShownComment,
    StatementResult,
    ValueResult,
)
from feedback360.timeutil import long_date
from feedback360.wording import counted


def templates_dir() -> Path:
    """The templates folder: in the package when installed from a wheel, else the repo's."""
    return resource_dir("templates")


def static_dir() -> Path:
    return PACKAGE_DIR / "static"


class ReportURLFetcher(URLFetcher):
    """Fetches only data: URLs and files under our own templates and static folders.

    Report content comes from raters; nothing in it may make the server reach the network
    or read other files, so everything else is refused, and redirects are never followed.
    """

    def __init__(self) -> None:
        super().__init__(timeout=5, allowed_protocols=("data",), allow_redirects=False)
        self.roots = tuple(root.resolve() for root in (templates_dir(), static_dir()))

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        scheme = url.partition(":")[0].lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            parts = urlsplit(url)
            path = Path(unquote(parts.path)).resolve()
            inside = any(path.is_relative_to(root) for root in self.roots)
            if parts.netloc in ("", "localhost") and inside and path.is_file():
                content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(
                    path.as_uri(), path.read_bytes(), {"Content-Type": content_type}
                )
        raise ValueError(f"The report may not fetch {url!r}")


BETWEEN_TAGS = re.compile(r">[ \t]*\n\s*<")

# A hidden cell's reason longer than this becomes a numbered note under its table.
SHORT_REASON = 30


@dataclass(frozen=True)
class Row:
    """One behaviour statement as the report prints it."""

    index: int
    text: str
    result: StatementResult | None


@dataclass(frozen=True)
class Table:
    """Statements of one kind, with the reasons too long to fit in a cell, numbered from 1."""

    rows: list[Row]
    notes: list[str]


@dataclass(frozen=True)
class Section:
    """One value: its words, its statements (split by kind), its chart and comments."""

    number: int
    title: str
    summary: str
    result: ValueResult | None
    chart: Markup
    positive: Table
    negative: Table
    comments: list[ShownComment]


def _columns(doc: ReportDocument) -> list[Column]:
    # Only self is shown when the rater scores are withheld, whatever the engine passed on.
    columns = doc.result.columns
    if not doc.result.rater_scores_shown:
        columns = [column for column in columns if column.key == SELF]
    return columns


def _table(rows: list[Row], columns: list[Column]) -> Table:
    notes: list[str] = []
    for row in rows:
        for column in columns:
            cell = row.result.cells.get(column.key) if row.result else None
            reason = cell.hidden_reason if cell and cell.mean is None else None
            if reason and len(reason) > SHORT_REASON and reason not in notes:
                notes.append(reason)
    return Table(rows, notes)


def _sections(doc: ReportDocument, columns: list[Column], for_pdf: bool) -> list[Section]:
    statement_results = {s.index: s for s in doc.result.statements}
    value_results = {v.index: v for v in doc.result.values}
    sections = []
    for i, value in enumerate(doc.values):
        result = value_results.get(i)
        scores = result.scores if result else {}
        lanes = [charts.Lane(c.key, c.label, scores.get(c.key)) for c in columns]
        norm = result.norm if result else None
        chart = charts.dot_plot(value.title, lanes, doc.scale, norm)
        if not for_pdf:  # the browser page also has the chart drawn for a phone's screen
            chart += charts.narrow_dot_plot(value.title, lanes, doc.scale, norm)
        rows = [
            (statement.positive, Row(j, statement.text, statement_results.get(j)))
            for j, statement in enumerate(doc.statements)
            if statement.value_index == i
        ]
        sections.append(
            Section(
                number=i + 1,
                title=value.title,
                summary=value.summary,
                result=result,
                chart=chart,
                positive=_table([row for positive, row in rows if positive], columns),
                negative=_table([row for positive, row in rows if not positive], columns),
                comments=[c for c in doc.result.comments if c.value_index == i],
            )
        )
    return sections


def reading(outlook: float | None, short: bool = False) -> str:
    """How others see the person compared with how they see themselves, in words.

    Outlook is already read by polarity: for a "We will not" statement, others seeing the
    behaviour more often than the person thinks comes as a negative outlook, "worse".
    Blank where the gap rounds to nothing.
    """
    if outlook is None or charts.one_decimal(abs(outlook)) == "0.0":
        return ""
    word = "better" if outlook > 0 else "worse"
    return word if short else f"others see {word}"


def compared(gap: float | None) -> str:
    """A statement's gap in words, no sign: how often others see it than the person does.

    The same words for "We will" and "We will not"; `reading` then says better or worse.
    """
    if gap is None:
        return ""
    size = charts.one_decimal(abs(gap))
    if size == "0.0":
        return "same as you"
    return f"{size} {'more' if gap > 0 else 'less'} often"


def value_compared(gap: float | None) -> str:
    """A value's gap in words: value scores are turned so that higher is always better."""
    if gap is None:
        return ""
    size = charts.one_decimal(abs(gap))
    if size == "0.0":
        return "Others score you the same as you do"
    return f"Others score you {size} {'higher' if gap > 0 else 'lower'} than you do"


def change_words(change: float) -> str:
    """A change since the last report: "up 0.3", "down 0.3" or "unchanged"."""
    size = charts.one_decimal(abs(change))
    if size == "0.0":
        return "unchanged"
    return f"{'up' if change > 0 else 'down'} {size}"


@dataclass(frozen=True)
class Mark:
    """What a statement's gap cell says under its number, and its class (how it is shaded)."""

    words: str
    css: str


def in_words(score: float, scale: list[str]) -> str:
    """A score as printed put in the scale's words: "Rarely" for 2.0, "between Never and
    Rarely" for 1.9."""
    tenths = round(score * 10)
    whole, part = divmod(tenths, 10)
    if not 1 <= whole <= len(scale) or (part and whole == len(scale)):
        return ""
    if not part:
        return scale[whole - 1]
    return f"between {scale[whole - 1]} and {scale[whole]}"


def _marks(result: ReportResult) -> dict[int, Mark]:
    """The engine's hidden strengths and blind spots, by statement, to mark in the tables.

    A listed hidden strength is shaded and a listed blind spot framed; a "possible" one (its
    gap alone is large) is marked in words and outlined with dashes, so all differ without
    colour.
    """
    marks = {
        h.statement_index: Mark("possible hidden strength", "possible")
        for h in result.possible_hidden_strengths
    }
    marks.update(
        (h.statement_index, Mark("possible blind spot", "possible"))
        for h in result.possible_blind_spots
    )
    marks.update(
        (h.statement_index, Mark("hidden strength", "marked")) for h in result.hidden_strengths
    )
    marks.update(
        (h.statement_index, Mark("blind spot", "marked blind-spot")) for h in result.blind_spots
    )
    return marks


def _widths(columns: list[Column], all_raters_shown: bool) -> dict[str, str] | None:
    """Statement tables' column widths in per cent: the text, each group, the comparison
    with self and the spread."""
    # The comparison ("1.4 less often", then "better" or a mark) is kept to one line per
    # phrase, and the spread carries "not seen" under it: both get more room.
    extra = 10 if all_raters_shown else 0
    numeric = len(columns) + (2 if all_raters_shown else 0)
    if not numeric:  # no self-assessment and rater scores withheld: no number columns
        return None
    share = min(8.5, (66 - extra) / numeric)
    text = 100 - share * numeric - extra
    return {
        "text": f"{text:.1f}",
        "num": f"{share:.2f}",
        "gap": f"{share + 6:.2f}",
        "spread": f"{share + 4:.2f}",
    }


def _hidden_group_note(columns: list[Column]) -> str:
    """What the cover says of a group not shown on its own, instead of its number."""
    keys = {column.key for column in columns}
    pools = [LABELS[key] for key in (OTHER_RATERS, ALL_RATERS) if key in keys]
    if not pools:
        return "Not shown, to protect anonymity"
    # Not "too few": a large enough group is also pooled when showing it would let a
    # smaller group's answers be worked out by subtraction.
    return "Not shown on its own, to protect anonymity: included in " + " and ".join(pools)


@dataclass(frozen=True)
class CoachPage:
    """What the coach's page lists, all read from cells the report prints."""

    disagree: list[StatementResult]  # widest printed spread first
    more_disagree: int  # beyond the listed ones
    self_apart: list[StatementResult]  # self outside all raters' spread
    thin: list[StatementResult]  # all raters' score rests on under half those who answered


COACH_LIST = 8  # statements listed under "raters disagree", the widest spreads first


def _coach_page(result: ReportResult) -> CoachPage:
    by_index = {s.index: s for s in result.statements}

    def everyone(s: StatementResult) -> Cell:
        return s.cells[ALL_RATERS]

    shown = [s for s in result.statements if ALL_RATERS in s.cells and everyone(s).mean is not None]
    disagree = sorted(
        (s for s in shown if s.raters_disagree),
        key=lambda s: (everyone(s).low - everyone(s).high, s.index),
    )
    return CoachPage(
        disagree=disagree[:COACH_LIST],
        more_disagree=max(0, len(disagree) - COACH_LIST),
        self_apart=[by_index[i] for i in result.self_outside_spread],
        thin=[s for s in shown if 2 * everyone(s).n < result.total_responses],
    )


def _caveats(result: ReportResult, columns: list[Column], whose: str = "Your") -> list[str]:
    """What the start page asks the reader to keep in mind, from what the report shows;
    `whose` raters they are ("Sam’s" on the coach's page)."""
    if not result.rater_scores_shown:
        return []
    caveats = []
    hidden = [group.label for group in result.groups if not group.shown]
    if hidden:
        pools = [f"“{c.label}”" for c in columns if c.key in (OTHER_RATERS, ALL_RATERS)]
        one = len(hidden) == 1
        caveats.append(
            f"{_listed(hidden)} {'is' if one else 'are'} not shown on {'its' if one else 'their'}"
            f" own, to protect anonymity"
            + (
                f": {'its' if one else 'their'} answers count in {' and '.join(pools)}."
                if pools
                else "."
            )
        )
    caveats += result.notes
    disagree = sum(s.raters_disagree for s in result.statements)
    if disagree:
        caveats.append(
            f"{whose} raters disagree among themselves on {disagree} of the"
            f" {len(result.statements)} statements (marked “disagree”): there the mean hides"
            " different views."
        )
    blank = sum(
        1 for s in result.statements if ALL_RATERS in s.cells and s.cells[ALL_RATERS].hidden_reason
    )
    if blank:
        caveats.append(
            f"{counted(blank, 'statement')} {'has' if blank == 1 else 'have'} no score from all"
            " raters, to protect anonymity; the cell says why."
        )
    return caveats


def _listed(words: list[str]) -> str:
    """ "A", "A and B", "A, B and C"."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        one_decimal=charts.one_decimal,
        percent=charts.percent,
        long_date=long_date,
        reading=reading,
        in_words=in_words,
        compared=compared,
        value_compared=value_compared,
        change_words=change_words,
    )
    # One name for a "Not seen" answer throughout the report: the rater form's own words.
    env.globals.update(
        marker=charts.marker, markers=charts.MARKERS, not_seen=not_seen_words(about_self=False)
    )
    return env


# Where the coach's page goes in the coach's edition: straight after the cover.
COACH_PAGE_PLACE = "<!-- the coach's page -->"


@dataclass(frozen=True)
class Editions:
    """A report's pages as the build keeps them: the subject's page for the browser and for
    print, and the coach's edition of each (the same with the coach's page)."""

    html: str
    print_page: str
    coach_html: str
    coach_print: str


def report_html(
    doc: ReportDocument,
    *,
    pdf_url: str | None = None,
    for_pdf: bool = False,
    settings: CycleSettings | None = None,
    coach: bool = False,
) -> str:
    """The personal report as one self-contained HTML page (no scripts, no external files).

    With coach, the coach's edition: the same report with a page for the coach after the
    cover, built from the numbers the report shows and nothing else.

    The cycle's settings only word the explanations (the gap that makes a blind spot, the
    people needed for norms); every number shown comes from the engine's result. For the
    PDF the page leaves out the main stylesheet, which report_pdf passes ready parsed.
    """
    context = _context(doc, settings or CycleSettings(), pdf_url=pdf_url, for_pdf=for_pdf)
    page = _environment().get_template("reports/report.html").render(context)
    return page.replace(COACH_PAGE_PLACE, _coach_section(doc, context) if coach else "")


def report_editions(doc: ReportDocument, settings: CycleSettings, pdf_url: str) -> Editions:
    """Every page the build keeps, each part rendered once: the coach's page is the same in
    the browser and in print, so it is made once and put into both."""
    template = _environment().get_template("reports/report.html")
    screen = _context(doc, settings, pdf_url=pdf_url, for_pdf=False)
    html = template.render(screen)
    print_page = template.render(_context(doc, settings, pdf_url=None, for_pdf=True))
    coach = _coach_section(doc, screen)
    return Editions(
        html=html.replace(COACH_PAGE_PLACE, ""),
        print_page=print_page.replace(COACH_PAGE_PLACE, ""),
        coach_html=html.replace(COACH_PAGE_PLACE, coach),
        coach_print=print_page.replace(COACH_PAGE_PLACE, coach),
    )


def _coach_section(doc: ReportDocument, context: dict[str, Any]) -> str:
    result, columns = doc.result, context["columns"]
    return (
        _environment()
        .get_template("reports/_coach_page.html")
        .render(
            context,
            coach_page=_coach_page(result),
            coach_caveats=_caveats(result, columns, f"{doc.subject_first_name}’s"),
        )
    )


def _context(
    doc: ReportDocument, settings: CycleSettings, *, pdf_url: str | None, for_pdf: bool
) -> dict[str, Any]:
    """What the report's template reads."""
    columns = _columns(doc)
    result = doc.result
    all_raters_shown = any(c.key == ALL_RATERS for c in columns)
    return {
        "doc": doc,
        "result": result,
        "settings": settings,
        "columns": columns,
        "has_self": any(c.key == SELF for c in columns),
        "all_raters_shown": all_raters_shown,
        "widths": _widths(columns, all_raters_shown),
        "sections": _sections(doc, columns, for_pdf),
        "general_comments": [
            c for c in doc.result.comments if not 0 <= c.value_index < len(doc.values)
        ],
        "hidden_group_note": _hidden_group_note(columns),
        "gaps": {s.index: s.gap for s in result.statements},
        "results_by_index": {s.index: s for s in result.statements},
        "caveats": _caveats(result, columns),
        "marks": _marks(result),
        "pdf_url": None if for_pdf else pdf_url,
        "for_pdf": for_pdf,
    }


@cache
def _print_styles() -> tuple[FontConfiguration, CSS]:
    """The report's stylesheet, parsed once per process rather than once per report."""
    fonts = FontConfiguration()
    css = CSS(
        filename=str(templates_dir() / "reports" / "report.css"),
        url_fetcher=ReportURLFetcher(),
        font_config=fonts,
    )
    return fonts, css


def report_pdf(
    doc: ReportDocument, *, settings: CycleSettings | None = None, coach: bool = False
) -> bytes:
    """The personal report (or the coach's edition) as a tagged PDF/UA-1 document, A4."""
    return pdf_of_page(report_html(doc, for_pdf=True, settings=settings, coach=coach))


def pdf_of_page(page: str) -> bytes:
    """The PDF of a report page made for print: a pure function of the page's text."""
    # Whitespace with a line break between two tags is only the template's layout; left in,
    # WeasyPrint builds and then discards a box for every run of it.
    html = HTML(
        string=BETWEEN_TAGS.sub("><", page),
        base_url=templates_dir().as_uri() + "/",
        url_fetcher=ReportURLFetcher(),
    )
    fonts, css = _print_styles()
    with _collecting_once():
        return html.write_pdf(pdf_variant="pdf/ua-1", stylesheets=[css], font_config=fonts)


@contextmanager
def _collecting_once():
    """Hold off the cyclic garbage collector while WeasyPrint works, then collect once.

    A report allocates hundreds of thousands of short-lived objects; left on, the collector
    runs over and over during the render and costs about a fifth of its time. Everything
    the render made is in the youngest generation, so collecting that one frees it all
    without walking the rest of the process.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect(0)
