"""Building a cycle's reports: the whole cycle is analysed together, and history carries on."""

from __future__ import annotations

from feedback360.extensions import db
from feedback360.feedback import services
from feedback360.feedback.answers import Answers
from feedback360.reports.services import build_cycle_reports, release_reports, report_document


def run_cycle(name, subject, framework, open_cycle, rater_score: int, self_score: int = 3):
    """A cycle in which five peers rate every statement `rater_score`, released."""
    cycle = open_cycle(name)
    request = services.start_request(cycle, subject)
    services.submit_self_assessment(
        request, Answers({s.id: self_score for s in framework.statements})
    )
    for n in range(5):
        services.nominate(request, f"Peer {n}", f"{name.split()[0].lower()}{n}@example.org", "peer")
    services.send_invitations(request)
    for invitation in request.invitations:
        services.submit_rater_response(
            invitation, Answers({s.id: rater_score for s in framework.statements})
        )
    cycle.close()
    db.session.commit()
    return cycle, request


def test_the_second_report_shows_the_change_since_the_first(make_person, framework, open_cycle):
    sam = make_person("Sam Taylor", "sam@example.org")
    first, _ = run_cycle("Spring 2026", sam, framework, open_cycle, rater_score=3)
    build_cycle_reports(first)
    release_reports(first)
    db.session.commit()

    second, request = run_cycle("Autumn 2026", sam, framework, open_cycle, rater_score=4)
    values = report_document(request).result.values

    # "We will" statements rated 3 then 4 rise by 1; "We will not" ones, reverse-scored,
    # fall by 1: each value's change is its share of positive minus negative statements.
    for value, result in zip(framework.values, values, strict=True):
        positive = sum(s.positive for s in value.statements)
        expected = (positive - (len(value.statements) - positive)) / len(value.statements)
        assert result.change is not None
        assert abs(result.change - expected) < 1e-9


def test_a_first_report_has_no_change_and_unreleased_history_is_ignored(
    make_person, framework, open_cycle
):
    sam = make_person("Sam Taylor", "sam@example.org")
    first, _ = run_cycle("Spring 2026", sam, framework, open_cycle, rater_score=3)
    build_cycle_reports(first)  # built but never released
    db.session.commit()
    _, request = run_cycle("Autumn 2026", sam, framework, open_cycle, rater_score=4)
    assert all(value.change is None for value in report_document(request).result.values)
