"""The personal report of a known cycle, read from the PDF as a coach would read it.

The cycle: Sam rates themself 3 ("Sometimes") on every statement. Six raters answer:
the line manager and two direct reports (pooled as "Other raters", as each group is under
k = 3) and three peers. Every rater gives the same score to a value's "We will" statements:

    value 1: 5 (others see it more often than Sam: +2.0, a hidden strength)
    value 2: 2 (others see it less often: −1.0, a blind spot)
    value 3: 3 (agreement: 0.0)
    value 4: peers 1, 3, 5 and the others 1, 3, 5 (mean 3.0, raters disagree)

and 1 ("Never") to every "We will not" statement, which Sam rates 3: others see those
behaviours less often than Sam does, so each reads "better", a hidden strength.
"""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from feedback360.closing import close_cycle
from feedback360.extensions import db
from feedback360.feedback import services
from feedback360.feedback.answers import Answers
from feedback360.reports.building import build_cycle_reports
from tests.conftest import nominate_colleague

RATERS = [  # group, score for value 4's "We will" statements
    ("line_manager", 1),
    ("direct_report", 3),
    ("direct_report", 5),
    ("peer", 1),
    ("peer", 3),
    ("peer", 5),
]
VALUE_SCORES = [5, 2, 3, None]


@pytest.fixture
def pdf_text(make_person, framework, open_cycle) -> str:
    sam = make_person("Sam Taylor", "sam@example.org")
    cycle = open_cycle("Spring 2026", min_raters=6)
    request = services.start_request(cycle, sam)
    services.submit_self_assessment(request, Answers({s.id: 3 for s in framework.statements}))
    for n, (group, _) in enumerate(RATERS):
        if group == "line_manager":  # Sam's recorded manager
            sam.line_manager = make_person(f"Rater {n}", f"rater{n}@example.org")
        nominate_colleague(request, f"Rater {n}", f"rater{n}@example.org", group)
    services.send_invitations(request)
    for invitation, (_, value_4) in zip(request.invitations, RATERS, strict=True):
        ratings = {}
        for value, score in zip(framework.values, [*VALUE_SCORES[:3], value_4], strict=True):
            for statement in value.statements:
                ratings[statement.id] = score if statement.positive else 1
        answers = Answers(ratings, {framework.values[0].id: f"Written by a {invitation.group}"})
        services.submit_rater_response(invitation, answers)
    close_cycle(cycle)
    report = build_cycle_reports(cycle)[0]
    db.session.commit()
    pages = PdfReader(io.BytesIO(report.pdf)).pages
    return re.sub(r"\s+", " ", "\n".join(page.extract_text() for page in pages))


def test_the_cover_names_the_person_cycle_framework_and_who_responded(pdf_text):
    for words in (
        "Sam Taylor",
        "Confidential",
        "Spring 2026",
        "Metropolitan Police Service values (2006)",
    ):
        assert words.lower() in pdf_text.lower()
    assert re.search(r"Peers 3", pdf_text)
    assert re.search(r"Total responses \(not counting yourself\) 6", pdf_text)
    assert "Line manager" in pdf_text
    assert "Direct reports" in pdf_text
    assert "included in Other raters" in pdf_text  # never a count of their own


def test_it_explains_how_to_read_it(pdf_text):
    assert "How to read this report" in pdf_text
    for words in ("1 Never", "5 Always", "not seen", "lower is better"):
        assert words.lower() in pdf_text.lower()


def test_the_value_sections_show_every_statement_with_its_numbers(framework, pdf_text):
    assert "Summary: how you see yourself and how others see you" in pdf_text
    for value in framework.values:
        assert value.title in pdf_text
        for statement in value.statements:
            assert statement.plain_text in pdf_text
    assert "2.0 more often" in pdf_text  # value 1: raters 5.0 against self 3.0
    assert "1.0 less often" in pdf_text  # value 2: raters 2.0 against self 3.0
    assert "disagree" in pdf_text  # value 4: ratings 1, 3 and 5


def test_blind_spots_hidden_strengths_and_highlights_are_named(pdf_text):
    for heading in (
        "Start here",
        "Blind spots and hidden strengths",
        "Negative behaviours seen most often",
    ):
        assert heading in pdf_text
    # Hidden strengths come first, then blind spots.
    after_heading = pdf_text.split("Hidden strengths: others see better than you do")[1]
    strengths, blind_spots = after_heading.split("Blind spots: others see worse than you do")
    blind_spots = blind_spots.split("Negative behaviours seen most often")[0]
    assert "make time to get the little things right" in strengths
    assert "make time to get the little things right" not in blind_spots  # a strength
    assert "provide opportunities for others to get involved" in blind_spots


def test_comments_and_the_development_plan_close_the_report(pdf_text):
    assert "Comments" in pdf_text
    for group in ("peer", "line_manager", "direct_report"):
        assert f"Written by a {group}" in pdf_text
    assert "My development plan" in pdf_text


def test_the_pdf_is_tagged_in_british_english_with_a_title(make_person, framework, open_cycle):
    sam = make_person("Sam Taylor", "sam@example.org")
    cycle = open_cycle("Spring 2026")
    services.start_request(cycle, sam)
    close_cycle(cycle)
    reader = PdfReader(io.BytesIO(build_cycle_reports(cycle)[0].pdf))
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root
    assert root["/Lang"] == "en-GB"
    assert "Sam Taylor" in reader.metadata.title
