"""Nothing in the report carries more precision than it prints.

Every unrounded number in a report document is nudged by an amount that does not change
how it prints; the HTML (charts included, to the last SVG coordinate, title and label)
must come out identical byte for byte, and so must the PDF's text and drawing. A chart
mark placed on an unrounded score, or a label chosen on one, fails here.
"""

from __future__ import annotations

import dataclasses
import io
import math
from datetime import date

import numpy as np
import pypdf
import pytest

from feedback360.groups import GROUPS
from feedback360.reports.charts import one_decimal, percent
from feedback360.reports.engine.analysis import analyse_cycle
from feedback360.reports.engine.inputs import CycleArrays, CycleSettings
from feedback360.reports.engine.results import ReportDocument, StatementText, ValueText
from feedback360.reports.render import (
    change_words,
    compared,
    report_html,
    report_pdf,
    value_compared,
)
from tests.test_render import document_with_insights, sample_document

SETTINGS = CycleSettings(k=3, manager_identifiable=True, norm_min_subjects=3)
STEPS = (0.049, 0.03, 0.01, 0.004, 0.001, 0.0004)


def prints(x: float) -> tuple[str, str, str]:
    """Every way the report prints a number."""
    return one_decimal(x), compared(x), value_compared(x), change_words(x), percent(x)


def nudge(x: float, direction: float) -> float:
    """x moved as far as it can go in a direction (or the other) and still print the same."""
    for step in STEPS:
        for sign in (direction, -direction):
            moved = x + sign * step
            if prints(moved) == prints(x):
                return moved
    raise AssertionError(f"{x} cannot move without printing differently")


def nudged(obj: object, direction: float, rng: np.random.Generator) -> object:
    """A copy of a document with every float nudged; random directions when direction is 0."""
    if isinstance(obj, bool | int | str | date) or obj is None:
        return obj
    if isinstance(obj, float):
        return nudge(obj, direction or float(rng.choice([-1.0, 1.0])))
    if dataclasses.is_dataclass(obj):
        fields = {
            f.name: nudged(getattr(obj, f.name), direction, rng) for f in dataclasses.fields(obj)
        }
        return dataclasses.replace(obj, **fields)
    if isinstance(obj, dict):
        return {key: nudged(value, direction, rng) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(nudged(value, direction, rng) for value in obj)
    raise TypeError(f"Nothing to nudge in {type(obj).__name__}")


def engine_documents() -> list[ReportDocument]:
    """A cycle of twelve people from the engine: norms, change, pools, hidden cells."""
    rng = np.random.default_rng(7)
    statement_value = np.repeat(np.arange(3), [3, 4, 3])
    positive = np.array([True, True, False, True, False, True, True, True, True, False])
    subject, group = [], []
    for person in range(12):
        sizes = [1, 1, *rng.integers(0, 6, size=3)]
        for code, size in enumerate(sizes):
            subject += [person] * int(size)
            group += [code] * int(size)
    ratings = rng.integers(1, 6, size=(len(subject), len(statement_value))).astype(float)
    ratings[rng.random(ratings.shape) < 0.2] = math.nan
    arrays = CycleArrays(
        ratings=ratings,
        subject=np.array(subject),
        group=np.array(group, dtype=np.int8),
        statement_value=statement_value,
        statement_positive=positive,
        n_subjects=12,
        n_values=3,
        previous_value_scores=rng.uniform(1, 5, size=(12, 3)),  # kept unrounded
    )
    analysis = analyse_cycle(arrays, SETTINGS)
    base = sample_document()
    statements = [
        StatementText(f"statement {s} of value {v + 1}", bool(p), int(v))
        for s, (v, p) in enumerate(zip(statement_value, positive, strict=True))
    ]
    documents = []
    for person in range(12):
        comments = [(0, GROUPS[g], f"From a {GROUPS[g]}") for g in set(group)]
        result = analysis.report(person, comments, seed=person)
        documents.append(
            dataclasses.replace(
                base,
                values=[ValueText(f"Value {v + 1}", "") for v in range(3)],
                statements=statements,
                result=result,
            )
        )
    return documents


@pytest.fixture(scope="module")
def documents() -> list[ReportDocument]:
    return [sample_document(), document_with_insights(), *engine_documents()]


def test_engine_documents_carry_unrounded_numbers_to_nudge(documents):
    values = [v for doc in documents[2:] for r in doc.result.values for v in r.scores.values()]
    assert any(v is not None and v != round(v, 1) for v in values)
    assert any(doc.result.norm_subjects for doc in documents[2:])
    assert any(v.change is not None for doc in documents[2:] for v in doc.result.values)


@pytest.mark.parametrize("direction", [-1.0, 1.0, 0.0], ids=["down", "up", "random"])
def test_the_html_is_the_same_whatever_the_unprinted_digits(documents, direction):
    rng = np.random.default_rng(int(direction) + 5)
    for doc in documents:
        other = nudged(doc, direction, rng)
        assert other != doc
        for options in ({}, {"for_pdf": True}):
            assert report_html(other, **options, settings=SETTINGS) == report_html(
                doc, **options, settings=SETTINGS
            )


def drawing_and_text(pdf: bytes) -> list[tuple[bytes, str]]:
    """Each page's drawing operators and text: what a reader of the PDF can get at."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return [(page.get_contents().get_data(), page.extract_text()) for page in reader.pages]


def test_the_pdf_draws_and_says_the_same_whatever_the_unprinted_digits(documents):
    with_norms = next(doc for doc in documents[2:] if doc.result.norm_subjects)
    for doc in (documents[1], with_norms):
        other = nudged(doc, -1.0, np.random.default_rng(0))
        pages = drawing_and_text(report_pdf(other, settings=SETTINGS))
        assert pages == drawing_and_text(report_pdf(doc, settings=SETTINGS))
