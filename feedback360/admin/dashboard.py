"""A cycle's figures for its administrator: counts of requests, invitations and responses.

Administrators run the cycle, so they may see invitation states (rule 7); never what
anyone answered. Everything here is a count; no rater is named.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from sqlalchemy.orm import selectinload

from feedback360.cycles.models import Cycle
from feedback360.extensions import db
from feedback360.feedback.models import (
    DECLINED,
    INVITED,
    NOMINATED,
    OPENED,
    SUBMITTED,
    FeedbackRequest,
    Invitation,
)
from feedback360.feedback.stage import DASHBOARD_STAGES, request_stage
from feedback360.groups import LABELS, OTHER_RATERS
from feedback360.mailing.models import FAILED
from feedback360.mailing.services import mail_counts
from feedback360.reports.services import built_request_ids

NO_UNIT = "No business unit recorded"


@dataclass(frozen=True)
class Rate:
    """Invitations sent and how they were answered, for a rater group or a business unit."""

    label: str
    sent: int
    submitted: int
    declined: int
    shown: bool = True  # False: too few to show what happened without naming anyone

    def is_enough(self, threshold: int) -> bool:
        """Enough invitations and responses that its states point at nobody."""
        return self.sent >= threshold and self.submitted >= threshold

    @property
    def percent(self) -> int | None:
        return round(100 * self.submitted / self.sent) if self.sent else None


@dataclass(frozen=True)
class RequestLine:
    """One request as its administrator sees it: the subject, the stage and counts."""

    id: int
    subject_name: str
    business_unit: str
    stage: str
    self_assessed: bool
    nominated: int
    waiting: int  # invited or opened, not answered: who a reminder would go to
    responses: int
    hidden_groups: list[str]  # groups without enough responses to be shown yet

    def could_reach(self, threshold: int) -> bool:
        return self.responses + self.waiting >= threshold


@dataclass(frozen=True)
class Dashboard:
    requests: list[RequestLine]
    stages: dict[str, int]
    self_assessed: int
    invitations: dict[str, int]
    by_group: list[Rate]
    by_unit: list[Rate]
    below_threshold: list[RequestLine]
    failed_mails: int


def cycle_dashboard(cycle: Cycle) -> Dashboard:
    requests = list(
        db.session.scalars(
            db.select(FeedbackRequest)
            .filter_by(cycle_id=cycle.id)
            .options(
                selectinload(FeedbackRequest.subject),
                selectinload(FeedbackRequest.invitations),
            )
        )
    )
    built = built_request_ids(cycle)
    lines = sorted(
        (_line(feedback_request, feedback_request.id in built) for feedback_request in requests),
        key=lambda line: line.subject_name.lower(),
    )
    invitations = [i for feedback_request in requests for i in feedback_request.invitations]
    k = cycle.anonymity_threshold
    return Dashboard(
        requests=lines,
        stages={stage: sum(line.stage == stage for line in lines) for stage in DASHBOARD_STAGES},
        self_assessed=sum(line.self_assessed for line in lines),
        invitations=_invitation_counts(invitations),
        by_group=_rates_by_group(cycle, invitations),
        by_unit=_rates_by_unit(requests),
        below_threshold=[line for line in lines if line.responses < k],
        failed_mails=failed_mail_count(cycle),
    )


def _line(feedback_request: FeedbackRequest, built: bool) -> RequestLine:
    stage = request_stage(feedback_request, report_built=built)
    progress = stage.progress  # the subject's own view of rule 7, reused
    waiting = sum(i.status in (INVITED, OPENED) for i in feedback_request.invitations)
    return RequestLine(
        id=feedback_request.id,
        subject_name=feedback_request.subject.name,
        business_unit=feedback_request.subject.business_unit or NO_UNIT,
        stage=stage.dashboard,
        self_assessed=feedback_request.self_assessed,
        nominated=progress.nominated,
        waiting=waiting,
        responses=progress.responses,
        hidden_groups=[group.label for group in progress.groups if not group.enough],
    )


def _invitation_counts(invitations: list[Invitation]) -> dict[str, int]:
    states = Counter(invitation.status for invitation in invitations)
    return {
        "Sent": len(invitations) - states[NOMINATED],
        "Not opened yet": states[INVITED],
        "Opened, not answered yet": states[OPENED],
        "Submitted": states[SUBMITTED],
        "Declined": states[DECLINED],
    }


def _rate(label: str, invitations: list[Invitation]) -> Rate:
    return Rate(
        label=label,
        sent=sum(i.status != NOMINATED for i in invitations),
        submitted=sum(i.status == SUBMITTED for i in invitations),
        declined=sum(i.status == DECLINED for i in invitations),
    )


def _rates_by_group(cycle: Cycle, invitations: list[Invitation]) -> list[Rate]:
    """Each group's states only where it is enough (the only "Other" declining must not
    show); the rest pooled as "Other raters", shown only if the pool is enough. As rule 4
    asks of reports, the smallest shown group joins a pool that is not, so that the totals
    above minus the groups shown never give a small group's states away."""
    k = cycle.anonymity_threshold
    rates = [
        _rate(LABELS[group], [i for i in invitations if i.group == group])
        for group in cycle.rater_groups
    ]
    shown = {n for n, rate in enumerate(rates) if rate.sent == 0 or rate.is_enough(k)}
    while True:
        pool = _pool([rate for n, rate in enumerate(rates) if n not in shown])
        can_join = [n for n in shown if rates[n].sent]
        if pool.sent == 0 or pool.is_enough(k) or not can_join:
            break
        shown.remove(min(can_join, key=lambda n: (rates[n].sent, n)))
    if pool.sent == 0:
        return rates
    each = [replace(rate, shown=n in shown) for n, rate in enumerate(rates)]
    return [*each, replace(pool, shown=pool.is_enough(k))]


def _pool(rates: list[Rate]) -> Rate:
    return Rate(
        label=LABELS[OTHER_RATERS],
        sent=sum(rate.sent for rate in rates),
        submitted=sum(rate.submitted for rate in rates),
        declined=sum(rate.declined for rate in rates),
    )


def _rates_by_unit(requests: list[FeedbackRequest]) -> list[Rate]:
    units: dict[str, list[Invitation]] = {}
    for feedback_request in requests:
        unit = feedback_request.subject.business_unit or NO_UNIT
        units.setdefault(unit, []).extend(feedback_request.invitations)
    return [_rate(unit, units[unit]) for unit in sorted(units, key=str.lower)]


def failed_mail_count(cycle: Cycle) -> int:
    """Messages about this cycle's requests or invitations that could not be delivered."""
    return mail_counts(cycle)[FAILED]
