"""Serious negatives: the framework version names them, the engine flags one that all raters
have seen at or above the cycle's level (never on one rater's answer, never from a hidden
cell), and the report puts it on its first page, straight after the cover."""

# The framework's statements are quoted word for word, so some lines are long.
# ruff: noqa: E501

from __future__ import annotations

import io
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pypdf
import pytest

from feedback360.extensions import db
from feedback360.frameworks.models import Framework, Statement
from feedback360.frameworks.services import bundled_framework
from feedback360.groups import ALL_RATERS, OTHER_RATERS
from feedback360.reports.engine.analysis import analyse_cycle
from feedback360.reports.engine.inputs import GROUP_CODE, CycleArrays, CycleSettings
from feedback360.reports.engine.results import Cell, SeriousNegative, StatementResult
from feedback360.reports.engine.serious import serious_negatives
from feedback360.reports.loading import load_cycle
from feedback360.reports.render import in_words, report_html, report_pdf
from feedback360.reports.services import report_document
from tests.test_render import STATEMENTS, sample_document
from tests.test_report_build import run_cycle

INTIMIDATING = (
    "use behaviour which others could interpret as intimidating, bullying or lacking in integrity."
)
IGNORING = "ignore inappropriate behaviour or poor performance;"


def load(runner, path: Path):  # type: ignore[no-untyped-def]
    return runner.invoke(args=["framework", "load", str(path)])


def serious_texts(framework: Framework) -> list[str]:
    return [s.text for s in framework.statements if s.serious]


def versions() -> list[Framework]:
    return list(db.session.scalars(db.select(Framework).order_by(Framework.version)))


# The framework file ----------------------------------------------------------------------


def test_the_shipped_framework_names_its_serious_statements_and_stores_them(app, runner):
    result = load(runner, bundled_framework("mps-2006"))

    assert result.exit_code == 0, result.output
    assert "14 “We will not” statements (2 serious)." in result.output
    (framework,) = versions()
    assert serious_texts(framework) == [INTIMIDATING, IGNORING]
    assert all(not s.positive for s in framework.statements if s.serious)
    # Stored with the version, not worked out again from the file.
    db.session.expire_all()
    stored = db.session.scalars(db.select(Statement.text).where(Statement.serious)).all()
    assert sorted(stored) == sorted([INTIMIDATING, IGNORING])


def test_a_later_load_of_the_same_version_cannot_change_which_are_serious(app, runner, tmp_path):
    shipped = bundled_framework("mps-2006")
    assert load(runner, shipped).exit_code == 0
    # Loading the same file again keeps version 1 as it was.
    again = load(runner, shipped)
    assert "already version 1" in again.output
    # A copy that names another statement serious is a new version; version 1 keeps its own.
    changed = tmp_path / "mps-2006.toml"
    changed.write_text(
        shipped.read_text(encoding="utf-8").replace(
            f'serious = [\n    "{IGNORING}",\n]',
            'serious = [\n    "value police officers and police staff differently.",\n]',
        ),
        encoding="utf-8",
    )

    result = load(runner, changed)

    assert result.exit_code == 0, result.output
    assert "as version 2" in result.output
    db.session.expire_all()
    first, second = versions()
    assert serious_texts(first) == [INTIMIDATING, IGNORING]
    assert serious_texts(second) == [
        INTIMIDATING,
        "value police officers and police staff differently.",
    ]


def test_a_stored_statement_cannot_be_made_serious_or_not(framework):
    statement = next(s for s in framework.statements if s.text == IGNORING)
    other = next(s for s in framework.statements if not s.positive and not s.serious)

    with pytest.raises(ValueError, match="new version"):
        statement.serious = False
    with pytest.raises(ValueError, match="new version"):
        other.serious = True
    db.session.rollback()
    db.session.expire_all()
    assert serious_texts(db.session.get(Framework, framework.id)) == [INTIMIDATING, IGNORING]


@pytest.mark.parametrize(
    ("serious", "reason"),
    [
        pytest.param(
            '["listen;"]',
            "'serious' item 1 is not one of this value's 'we_will_not'",
            id="a-we-will",
        ),
        pytest.param(
            '["whisper."]',
            "'serious' item 1 is not one of this value's 'we_will_not'",
            id="unknown",
        ),
        pytest.param('"shout."', "'serious' must be a list of statements", id="not-a-list"),
    ],
)
def test_a_serious_statement_must_be_one_of_the_values_we_will_nots(
    app, runner, tmp_path, serious, reason
):
    path = tmp_path / "tiny.toml"
    path.write_text(
        'key = "tiny"\nname = "Tiny"\nscale = ["No", "Yes"]\n\n[[values]]\n'
        'title = "Be kind."\nsummary = "Kind."\nwe_will = ["listen;"]\n'
        f'we_will_not = ["shout."]\nserious = {serious}\n',
        encoding="utf-8",
    )

    result = load(runner, path)

    assert result.exit_code == 1
    assert reason in result.output
    assert versions() == []


def test_a_cycles_arrays_carry_which_statements_are_serious(open_cycle):
    cycle = open_cycle()

    loaded = load_cycle(cycle.id)

    serious = loaded.arrays.statement_serious
    assert serious is not None
    texts = [s.text for s in cycle.framework.statements]
    assert [texts[i] for i in np.flatnonzero(serious)] == [INTIMIDATING, IGNORING]


@pytest.mark.parametrize(("rater_score", "flagged"), [(2, True), (1, False)])
def test_a_built_report_flags_the_frameworks_serious_statements(
    make_person, framework, open_cycle, rater_score, flagged
):
    sam = make_person("Sam Taylor", "sam@example.org")
    _, request = run_cycle("Spring 2026", sam, framework, open_cycle, rater_score=rater_score)

    doc = report_document(request)

    named = [doc.statements[s.statement_index].text for s in doc.result.serious_negatives]
    expected = [INTIMIDATING.rstrip("."), IGNORING.rstrip(";")] if flagged else []
    assert named == expected
    html = report_html(doc)
    assert ("Serious behaviours seen</h3>" in html) is flagged
    # The first priorities too, so the development plan starts from them.
    first = [doc.statements[p.statement_index].text for p in doc.result.priorities[:2]]
    assert (first == expected) is flagged
    assert (f"Priority 1: We will not {expected[0] if flagged else ''}" in html) is flagged


# The engine ------------------------------------------------------------------------------

# Three statements: a "We will", a serious "We will not" and a "We will not" not serious.
SERIOUS = 1


def analysed(rows: list[tuple[str, list[float]]], **settings: object):  # type: ignore[no-untyped-def]
    """One subject's report from rows of (group, [ratings of the three statements])."""
    arrays = CycleArrays(
        ratings=np.array([r for _, r in rows], dtype=float),
        subject=np.zeros(len(rows), dtype=int),
        group=np.array([GROUP_CODE[g] for g, _ in rows], dtype=np.int8),
        statement_value=np.zeros(3, dtype=int),
        statement_positive=np.array([True, False, False]),
        statement_serious=np.array([False, True, False]),
        n_subjects=1,
        n_values=1,
    )
    return analyse_cycle(arrays, CycleSettings(**settings)).report(0)  # type: ignore[arg-type]


def peers(*serious: float, other: float = 5) -> list[tuple[str, list[float]]]:
    return [("peer", [4, score, other]) for score in serious]


def test_a_serious_negative_at_the_level_is_flagged_and_below_it_is_not():
    at_level = analysed([("self", [4, 1, 1]), *peers(2, 2, 1, 3)])  # mean 2.0
    below = analysed([("self", [4, 1, 1]), *peers(2, 2, 1, 2)])  # mean 1.75, printed 1.8

    assert at_level.serious_negatives == [SeriousNegative(SERIOUS, ALL_RATERS, 2.0, 4, 1, 3)]
    assert below.serious_negatives == []
    # The statement that is not serious is seen "Always" and still not flagged here.
    assert below.statements[2].cells[ALL_RATERS].mean == 5


def test_the_level_is_the_cycles_setting_and_compared_as_printed():
    rows = [*peers(1, 2, 2, 2, 2, 2)]  # mean 1.8333…, printed 1.8
    assert analysed(rows).serious_negatives == []
    assert [s.score for s in analysed(rows, serious_level=1.8).serious_negatives] == [1.8]
    assert analysed([*peers(1, 2, 2)]).serious_negatives == []  # 1.666… prints 1.7
    assert CycleSettings().serious_level == 2.0


def test_one_raters_answer_never_raises_the_flag():
    # One peer saw it "Always" against four who never did: the spread reaches 5, the mean
    # of all raters does not reach the level.
    report = analysed([("self", [4, 1, 1]), *peers(5, 1, 1, 1, 1)])
    assert report.statements[SERIOUS].cells[ALL_RATERS].high == 5
    assert report.serious_negatives == []

    # An identifiable line manager's 5 is shown on its own, but it is one person's answer.
    report = analysed([("line_manager", [4, 5, 1]), *peers(1, 1, 1, 1)], manager_identifiable=True)
    assert report.statements[SERIOUS].cells["line_manager"].mean == 5
    assert report.serious_negatives == []


def test_a_hidden_cell_never_raises_the_flag():
    # Three responded, but only two saw the behaviour: the cell is hidden (fewer than 3).
    report = analysed([*peers(5, 5), ("peer", [4, np.nan, 1])])
    cell = report.statements[SERIOUS].cells[ALL_RATERS]
    assert cell.mean is None
    assert cell.hidden_reason
    assert report.serious_negatives == []

    # Too few responses for any rater score: nothing is flagged either.
    report = analysed([("self", [4, 1, 1]), *peers(5, 5)])
    assert not report.rater_scores_shown
    assert report.serious_negatives == []


def test_the_shown_pool_counts_where_all_raters_is_not_shown_and_only_with_k_ratings():
    hidden = Cell(3, 0, None, None, None, None, "Fewer than 3 ratings")

    def statement(pool: Cell) -> StatementResult:
        return StatementResult(SERIOUS, {ALL_RATERS: hidden, OTHER_RATERS: pool}, None)

    serious = np.array([False, True, False])
    shown = Cell(3, 0, 2.3333, 0.5, 2, 3)
    assert serious_negatives([statement(shown)], serious, CycleSettings()) == [
        SeriousNegative(SERIOUS, OTHER_RATERS, 2.3, 3, None, None)  # no spread: not printed
    ]
    too_few = replace(shown, n=2)
    assert serious_negatives([statement(too_few)], serious, CycleSettings()) == []
    assert serious_negatives([statement(shown)], serious, CycleSettings(k=4)) == []


def test_without_serious_statements_nothing_is_flagged():
    arrays = CycleArrays(
        ratings=np.array([[4, 5, 5]] * 3, dtype=float),
        subject=np.zeros(3, dtype=int),
        group=np.full(3, GROUP_CODE["peer"], dtype=np.int8),
        statement_value=np.zeros(3, dtype=int),
        statement_positive=np.array([True, False, False]),
        n_subjects=1,
        n_values=1,
    )
    assert analyse_cycle(arrays, CycleSettings()).report(0).serious_negatives == []


def test_a_positive_statement_cannot_be_serious():
    arrays = CycleArrays(
        ratings=np.ones((3, 2)),
        subject=np.zeros(3, dtype=int),
        group=np.full(3, GROUP_CODE["peer"], dtype=np.int8),
        statement_value=np.zeros(2, dtype=int),
        statement_positive=np.array([True, False]),
        statement_serious=np.array([True, False]),
        n_subjects=1,
        n_values=1,
    )
    with pytest.raises(ValueError, match="serious"):
        analyse_cycle(arrays, CycleSettings())


# The report ------------------------------------------------------------------------------

# Statement 6 of the render tests' sample, "ignore inappropriate behaviour or poor
# performance", seen 3.1 (ratings 2 to 4) by all raters.
IGNORE_INDEX = 6


def flagged_document():  # type: ignore[no-untyped-def]
    doc = sample_document()
    statements = [replace(s, serious=i == IGNORE_INDEX) for i, s in enumerate(STATEMENTS)]
    cell = doc.result.statements[IGNORE_INDEX].cells[ALL_RATERS]
    flag = SeriousNegative(IGNORE_INDEX, ALL_RATERS, 3.1, cell.n, cell.low, cell.high)
    return replace(doc, statements=statements, result=replace(doc.result, serious_negatives=[flag]))


def test_scores_in_words():
    scale = ["Never", "Rarely", "Sometimes", "Often", "Always"]
    assert in_words(2.0, scale) == "Rarely"
    assert in_words(1.9, scale) == "between Never and Rarely"
    assert in_words(3.1, scale) == "between Sometimes and Often"
    assert in_words(5.0, scale) == "Always"


def test_the_box_opens_the_start_page_after_the_cover():
    html = report_html(flagged_document())

    cover_end = html.index("</section>", html.index('<section class="cover"'))
    start = html.index('<section class="start"')
    box = html.index('<div class="serious"')
    assert cover_end < start < box < html.index("Your strengths")
    section = html[box : html.index("</div>", box)]
    assert "Serious behaviours seen" in section
    assert "We will not ignore inappropriate behaviour or poor performance" in section
    assert "All raters: <strong>3.1</strong>, between Sometimes and Often" in section
    assert "ratings from 2 to 4" in section
    assert "debrief" in section
    # The appendix says what the box is, with the level in words and number.
    assert "at 2.0 (Rarely) or more, the start page says so" in html


def outline_titles(outline: list) -> list[str]:  # type: ignore[type-arg]
    titles = []
    for item in outline:
        titles += outline_titles(item) if isinstance(item, list) else [item.title]
    return titles


def test_the_pdf_shows_the_box_on_the_start_page_after_the_cover():
    reader = pypdf.PdfReader(io.BytesIO(report_pdf(flagged_document())))
    # pypdf puts a space before a comma that follows bold text.
    start = re.sub(r" ([,;.])", r"\1", " ".join(reader.pages[1].extract_text().split()))

    assert "Start here" in start
    assert "Serious behaviours seen" in start
    assert "We will not ignore inappropriate behaviour or poor performance" in start
    assert "All raters: 3.1, between Sometimes and Often" in start
    assert "Talk it over in your debrief" in start
    # A heading in the PDF's outline, as every section is.
    assert "Serious behaviours seen" in outline_titles(reader.outline)


def test_no_box_without_a_flag():
    html = report_html(sample_document())

    assert 'class="serious"' not in html
    assert 'id="serious-title"' not in html
