"""A closed cycle's responses load into the engine's arrays exactly as people answered, under
the labels the close stored them by (a group shown on its own, or pooled), with the counts
of each group kept at the close."""

from __future__ import annotations

import math

import numpy as np
import pytest

from feedback360.closing import close_cycle
from feedback360.cycles.services import create_cycle
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.feedback.answers import NOT_SEEN, Answers
from feedback360.feedback.models import FeedbackRequest, Response
from feedback360.feedback.services import (
    send_invitations,
    start_request,
    submit_rater_response,
    submit_self_assessment,
)
from feedback360.reports.engine.inputs import GROUP_CODE
from feedback360.reports.loading import load_cycle, load_cycle_comments
from tests.conftest import DATABASES, app_on, nominate_colleague, sign_in, submit_form

SAM_RATERS = ["line_manager", "peer", "peer", "peer", "direct_report"]
ALEX_RATERS = ["peer", "peer", "other", "other", "other"]  # the last never answers


@pytest.fixture(params=DATABASES)
def app(request, tmp_path, monkeypatch):
    """Loading runs on the embedded default and on the production database."""
    with app_on(request.param, tmp_path, monkeypatch) as app:
        yield app


def score(person: int, statement: int) -> int | None:
    """Person n's answer to the statement in column j: every point of the scale, and
    "Not seen" wherever n + j is a multiple of 7."""
    if (person + statement) % 7 == 0:
        return None
    return 1 + (3 * person + statement) % 5


def answers(framework, person: int) -> Answers:
    return Answers(ratings={s.id: score(person, j) for j, s in enumerate(framework.statements)})


def form(framework, person: int) -> dict[str, str]:
    data = {"action": "submit"}
    for j, statement in enumerate(framework.statements):
        answer = score(person, j)
        data[f"s{statement.id}"] = NOT_SEEN if answer is None else str(answer)
    return data


def row(framework, person: int) -> list[float]:
    return [
        math.nan if (x := score(person, j)) is None else float(x)
        for j in range(len(framework.statements))
    ]


def in_order(rows) -> list[tuple[int, list[float]]]:
    return sorted(rows, key=lambda r: (r[0], [-1 if math.isnan(x) else x for x in r[1]]))


def rows_of(arrays, subject: int) -> list[tuple[int, list[float]]]:
    """A subject's (group code, ratings) rows. Within a group, rows come in the order of
    the random response ids, so they are compared as a set."""
    mine = arrays.subject == subject
    return in_order(zip(arrays.group[mine].tolist(), arrays.ratings[mine].tolist(), strict=True))


def expected(framework, rows: list[tuple[str, int]]) -> list[tuple[int, list[float]]]:
    return in_order((GROUP_CODE[group], row(framework, person)) for group, person in rows)


def same(got, want) -> bool:
    return len(got) == len(want) and all(
        g[0] == w[0] and np.array_equal(g[1], w[1], equal_nan=True)
        for g, w in zip(got, want, strict=True)
    )


@pytest.fixture
def cycle_with_answers(app, framework, invited, make_person):
    """Sam (through the browser), Alex (through the services) and Kim (no answers yet)."""
    links = invited(SAM_RATERS)
    sam_request = db.session.execute(db.select(FeedbackRequest)).scalar_one()
    cycle = sam_request.cycle

    # Sam assesses themself in the browser; their raters answer through their links.
    sam = app.test_client()
    sign_in(sam, "sam@example.org")
    self_page = f"/requests/{sam_request.id}/self"
    assert submit_form(sam, self_page, form(framework, 0)).status_code == 302
    rater = app.test_client()
    for person, link in enumerate(links.values(), start=1):
        data = form(framework, person)
        if person == 2:
            data[f"c{framework.values[1].id}"] = "Listens before deciding."
        assert submit_form(rater, f"{link}/form", data).location == "/r/thanks"

    # Alex's request goes through the services; one of Alex's raters never answers.
    alex = make_person("Alex Morgan", "alex@example.org")
    alex_request = start_request(cycle, alex)
    submit_self_assessment(alex_request, answers(framework, 10))
    for number, group in enumerate(ALEX_RATERS, start=11):
        nominate_colleague(alex_request, f"Rater {number}", f"rater{number}@example.org", group)
    send_invitations(alex_request)
    for person, invitation in enumerate(alex_request.invitations[:-1], start=11):
        submit_rater_response(invitation, answers(framework, person))
    # A response with no rating at all (every statement "Not seen") is still a row.
    no_ratings = bytes(len(framework.statements))
    db.session.add(Response(request_id=alex_request.id, group="other", scores=no_ratings))

    kim_request = start_request(cycle, make_person("Kim Lee", "kim@example.org"))

    # Alex also takes part in another cycle, which must not leak into this one.
    other = create_cycle("Autumn 2026", framework)
    other.open()
    submit_self_assessment(start_request(other, alex), answers(framework, 99))
    close_cycle(cycle)
    db.session.commit()
    return cycle, sam_request, alex_request, kim_request


def test_a_cycle_loads_as_the_answers_given(app, framework, cycle_with_answers):
    cycle, sam_request, alex_request, kim_request = cycle_with_answers

    loaded = load_cycle(cycle.id)
    arrays = loaded.arrays

    # Subjects are the cycle's requests by id; columns follow the framework.
    assert loaded.request_ids == [sam_request.id, alex_request.id, kim_request.id]
    assert arrays.n_subjects == 3
    assert loaded.statement_ids == [s.id for s in framework.statements]
    assert loaded.value_ids == [v.id for v in framework.values]
    assert arrays.n_values == 4
    assert arrays.ratings.shape == (6 + 6, 46)
    assert arrays.statement_value.tolist() == [
        position for position, value in enumerate(framework.values) for _ in value.statements
    ]
    assert arrays.statement_positive.tolist() == [s.positive for s in framework.statements]
    assert arrays.scale_points == 5
    assert arrays.previous_value_scores is None

    # Rows are grouped by subject, then by label with self first. Each of Sam's and Alex's
    # groups below k made the pool too small to show alone, so every rater is pooled (rule 4).
    pooled = GROUP_CODE["pooled"]
    assert arrays.subject.tolist() == [0] * 6 + [1] * 6
    assert arrays.group.tolist() == [0] + [pooled] * 5 + [0] + [pooled] * 5
    assert arrays.group.dtype == np.int8
    # How many each group gave is kept apart from the stored labels (self, manager, peer,
    # direct report, other); Kim has none.
    assert arrays.group_counts.tolist() == [[1, 1, 3, 1, 0], [1, 0, 2, 0, 3], [0, 0, 0, 0, 0]]

    sam_rows = [("self", 0)] + [("pooled", n) for n in range(1, 6)]
    assert same(rows_of(arrays, 0), expected(framework, sam_rows))
    alex_rows = [("self", 10)] + [("pooled", n) for n in (11, 12, 13, 14)]
    empty = (pooled, [math.nan] * 46)
    assert same(rows_of(arrays, 1), in_order([*expected(framework, alex_rows), empty]))
    # Sam's own row: "Not seen" for the eighth statement is NaN beside the seventh's 2.
    assert arrays.ratings[0, 6] == 2.0
    assert math.isnan(arrays.ratings[0, 7])


def test_chosen_requests_load_in_the_order_given(app, cycle_with_answers):
    cycle, sam_request, alex_request, kim_request = cycle_with_answers

    loaded = load_cycle(cycle.id, request_ids=[kim_request.id, sam_request.id])

    assert loaded.request_ids == [kim_request.id, sam_request.id]
    assert loaded.arrays.n_subjects == 2
    assert loaded.arrays.subject.tolist() == [1] * 6
    assert loaded.arrays.group.tolist() == [0] + [GROUP_CODE["pooled"]] * 5
    assert loaded.arrays.group_counts.tolist() == [[0, 0, 0, 0, 0], [1, 1, 3, 1, 0]]


@pytest.mark.parametrize("which", ["unknown", "twice", "other cycle"])
def test_requests_outside_the_cycle_are_refused(app, cycle_with_answers, which):
    cycle, sam_request, *_ = cycle_with_answers
    elsewhere = db.session.execute(
        db.select(FeedbackRequest).where(FeedbackRequest.cycle_id != cycle.id)
    ).scalar_one()
    request_ids = {
        "unknown": [sam_request.id, 999_999],
        "twice": [sam_request.id, sam_request.id],
        "other cycle": [elsewhere.id],
    }[which]

    with pytest.raises(DomainError):
        load_cycle(cycle.id, request_ids=request_ids)


def test_a_cycle_without_responses_loads_empty(app, framework, open_cycle, make_person):
    cycle = open_cycle()
    start_request(cycle, make_person())
    db.session.commit()

    arrays = load_cycle(cycle.id).arrays

    assert arrays.n_subjects == 1
    assert arrays.ratings.shape == (0, 46)
    assert arrays.subject.tolist() == arrays.group.tolist() == []


def test_comments_load_with_their_value_and_group(app, framework, cycle_with_answers):
    cycle, sam_request, alex_request, _ = cycle_with_answers

    comments = [(1, "pooled", "Listens before deciding.")]
    assert load_cycle_comments(cycle.id) == {sam_request.id: comments}
    assert load_cycle_comments(cycle.id, sam_request.id) == {sam_request.id: comments}
    assert load_cycle_comments(cycle.id, alex_request.id) == {}
    with pytest.raises(DomainError):
        load_cycle_comments(999_999, sam_request.id)
