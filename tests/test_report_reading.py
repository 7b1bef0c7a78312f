"""Issue 17: a report someone can read alone, and a coach's edition to debrief from.

A Start here page (three strengths and three priorities from printed lists, who answered,
what to read with care), a key of at most 150 words, comparisons in words and never in
signs, one column where a group is everyone, a development plan that starts from the
priorities, no page left near empty, and a coach's page that adds no number the report
does not print.
"""

from __future__ import annotations

import io
import re
from functools import cache

import pytest
from pypdf import PdfReader

from feedback360.groups import ALL_RATERS, SELF
from feedback360.reports.engine import results as why
from feedback360.reports.engine.printed import printed
from feedback360.reports.engine.results import ReportDocument
from feedback360.reports.render import report_html, report_pdf
from tests.mps_reports import SUBJECTS, mps_document
from tests.test_report_marks import visible_text

# A4 in points, less the page margins (20 mm top, 18 mm bottom): the running header and
# the page number sit outside.
CONTENT_TOP, CONTENT_BOTTOM = 841.9 - 56.7, 51.0


@cache
def document(first_name: str) -> ReportDocument:
    return mps_document(first_name)


def section(page: str, css_class: str) -> str:
    """One section of the page as a reader sees it, in words."""
    start = page.index(f'<section class="{css_class}"')
    return visible_text("<body>" + page[start : page.index("</section>", start)])


# Pages ----------------------------------------------------------------------------------


def page_fill(pdf: bytes) -> list[tuple[float, str]]:
    """Each page's share of its text area reached by text, top down, and its text."""
    pages = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        heights = []

        def visit(text, cm, tm, _font, _size, heights=heights):  # type: ignore[no-untyped-def]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            if text.strip() and CONTENT_BOTTOM < y < CONTENT_TOP:
                heights.append(y)

        text = page.extract_text(visitor_text=visit)
        lowest = min(heights, default=CONTENT_TOP)
        pages.append(((CONTENT_TOP - lowest) / (CONTENT_TOP - CONTENT_BOTTOM), text))
    return pages


@pytest.mark.parametrize(("first_name", "coach"), [*((n, False) for n in SUBJECTS), ("Sam", True)])
def test_no_page_is_under_a_fifth_full_but_the_cover_and_the_plan(first_name, coach):
    pages = page_fill(report_pdf(document(first_name), coach=coach))

    assert "360-degree feedback report" in pages[0][1]
    nearly_empty = [
        number
        for number, (fill, text) in enumerate(pages[1:], start=2)
        if fill < 0.2 and "My development plan" not in text
    ]
    assert nearly_empty == []
    # The method is the appendix, at the end; the start page follows the cover (or the
    # coach's page, in the coach's edition).
    assert "Appendix: how this report is worked out" in pages[-1][1]
    assert "Start here" in pages[2 if coach else 1][1]


# Words, not signs -----------------------------------------------------------------------

SIGNED_NUMBER = re.compile(r"(?<![\w.])[+\-−±]\s?\d")


@pytest.mark.parametrize("first_name", SUBJECTS)
def test_no_comparison_is_a_sign_the_reader_must_combine_with_not(first_name):
    text = visible_text(report_html(document(first_name), coach=True))

    assert SIGNED_NUMBER.findall(text) == []
    assert "Gap" not in text
    # A "We will not" seen more often than its subject says reads "more often … worse".
    assert re.search(r"\d\.\d (more|less) often", text)


def test_the_key_is_at_most_150_words_on_the_first_pages():
    page = report_html(document("Sam"))
    key = section(page, "reading-key")

    assert len(key.split()) <= 150
    assert page.index('class="reading-key"') < page.index('class="summary"')
    for words in ("lower is better", "better or worse", "hidden strength", "Disagree", "blank"):
        assert words.lower() in key.lower()


# Start here -----------------------------------------------------------------------------


def test_start_here_names_strengths_priorities_who_answered_and_what_to_read_with_care():
    doc = document("Sam")
    start = section(report_html(doc), "start")

    assert len(doc.result.strengths) == 3
    assert 1 <= len(doc.result.priorities) <= 3
    strengths = start.index("Your strengths")
    priorities = start.index("Your priorities")
    assert strengths < priorities  # strengths first, as everywhere
    for pick in doc.result.strengths:
        assert doc.statements[pick.statement_index].text in start[strengths:priorities]
    for pick in doc.result.priorities:
        assert doc.statements[pick.statement_index].text in start[priorities:]
    assert (
        f"{doc.result.total_responses} of the 10 people invited to give you feedback answered."
        in start
    )
    assert "Read with care" in start


def test_the_picks_come_from_the_printed_lists_in_order_and_never_from_a_hidden_cell():
    for first_name in SUBJECTS:
        result = document(first_name).result
        lists = {
            why.HIGHEST: result.highest,
            why.HIDDEN_STRENGTH: result.hidden_strengths,
            why.BLIND_SPOT: result.blind_spots,
            why.LOWEST: result.lowest,
            why.SEEN_OFTEN: result.most_seen_negative,
            why.SERIOUS: result.serious_negatives,
        }
        for pick in (*result.strengths, *result.priorities):
            assert pick.statement_index in [h.statement_index for h in lists[pick.reason]]
            cell = result.statements[pick.statement_index].cells[ALL_RATERS]
            assert cell.mean is not None
            assert cell.hidden_reason is None
        for pick in result.strengths:
            assert printed(result.statements[pick.statement_index].cells[ALL_RATERS].mean) >= 4.0
        order = [why.SERIOUS, why.BLIND_SPOT, why.LOWEST, why.SEEN_OFTEN]
        reasons = [order.index(p.reason) for p in result.priorities]
        assert reasons == sorted(reasons)


def test_one_column_when_a_single_group_is_every_rater():
    for first_name, note in (
        ("Jo", "Every rater is in one group, Peers, so “All raters” shows their answers"),
        ("Priya", "not shown on their own, to protect anonymity"),
    ):
        doc = document(first_name)
        assert [c.key for c in doc.result.columns] == [SELF, ALL_RATERS]
        assert note in (section(report_html(doc), "start"))


def test_the_plan_starts_from_the_priorities_with_the_values_own_words():
    doc = document("Sam")
    plan = section(report_html(doc), "plan")

    for number, pick in enumerate(doc.result.priorities, start=1):
        statement = doc.statements[pick.statement_index]
        assert f"Priority {number}: We will" in plan
        assert statement.text in plan
        assert doc.values[statement.value_index].summary in plan
    assert plan.index("Priority 1") < plan.index("What will I keep doing?")


# The coach's edition --------------------------------------------------------------------


def numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:\.\d)?", text))


@pytest.mark.parametrize("first_name", SUBJECTS)
def test_the_coachs_page_prints_no_number_the_subjects_report_does_not(first_name):
    doc = document(first_name)
    subject = report_html(doc)
    coach_page = section(report_html(doc, coach=True), "coach-page")

    assert 'class="coach-page"' not in subject
    assert numbers(coach_page) <= numbers(visible_text(subject))
    # Everything it names has a shown score for all raters.
    for statement in doc.result.statements:
        text = doc.statements[statement.index].text
        if text in coach_page:
            assert statement.cells[ALL_RATERS].mean is not None


def test_the_coachs_page_lists_disagreement_and_self_answers_outside_every_raters():
    doc = document("Sam")
    coach_page = section(report_html(doc, coach=True), "coach-page")

    assert "For the coach" in coach_page
    assert "Sam’s copy does not have it" in coach_page
    disagree = [s for s in doc.result.statements if s.raters_disagree]
    assert disagree
    assert all(doc.statements[s.index].text in coach_page for s in disagree[:8])
    assert doc.result.self_outside_spread
    for index in doc.result.self_outside_spread:
        cell, own = (
            doc.result.statements[index].cells[ALL_RATERS],
            doc.result.statements[index].cells[SELF],
        )
        assert not cell.low <= own.mean <= cell.high
        assert doc.statements[index].text in coach_page
