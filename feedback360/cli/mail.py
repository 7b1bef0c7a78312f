"""`feedback360 mail`: retry failed messages (from cron), run the mail worker, show the queue."""

from __future__ import annotations

import signal
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import click

from feedback360.audit.services import record
from feedback360.commands import domain_command
from feedback360.cycles.models import Cycle
from feedback360.cycles.services import find_cycle
from feedback360.extensions import db
from feedback360.mailing.models import FAILED, SENT, SKIPPED, STATUSES, QueuedMail
from feedback360.mailing.services import MAX_ATTEMPTS, failed_mail, given_up, mail_counts
from feedback360.mailing.services import retry_failed as retry_due
from feedback360.mailing.worker import IDLE_WAIT, run_worker
from feedback360.wording import counted


@click.group(help="The mail queue: send it, retry messages that could not be sent, show them.")
def mail() -> None:
    pass


cycle_option = click.option(
    "--cycle", "reference", metavar="CYCLE", help="Only this cycle's messages (id or name)."
)


@mail.command(
    "retry",
    help="Send again the messages that failed, for cron. Each waits longer after every "
    f"failure (5, 10, 20, 40 minutes) and is given up after {MAX_ATTEMPTS} attempts, staying "
    "failed and listed by `feedback360 mail status`.",
)
@cycle_option
@click.option(
    "--now",
    is_flag=True,
    help="Retry every failed message at once, given up or not (after mending the mail server).",
)
@domain_command
def retry(reference: str | None, now: bool) -> None:
    cycle = _cycle(reference)
    tried = retry_due(cycle, by_hand=now)
    if tried:  # cron runs often: only runs that did something are worth an audit entry
        target = f"cycle {cycle.id}" if cycle else "all cycles"
        record("mail.retry", target, counted(len(tried), "message") + (", by hand" if now else ""))
    db.session.commit()  # the messages are sent as this commits
    outcome = {status: sum(mail.status == status for mail in tried) for status in STATUSES}
    click.echo(
        f"Retried {counted(len(tried), 'message')}: {outcome[SENT]} sent, "
        f"{outcome[FAILED]} failed, {outcome[SKIPPED]} no longer needed."
    )
    for mail in tried:
        if mail.status == FAILED:
            click.echo(f"  {_describe(mail)}")


@mail.command(
    "worker",
    help="Send queued mail as it becomes due, over one SMTP connection while any is due, until "
    "stopped (SIGTERM or Ctrl-C): new messages at once, failed ones after their wait. Safe beside "
    "other workers and `feedback360 mail retry`: no message is sent twice.",
)
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
@click.option(
    "--idle-wait",
    type=click.FloatRange(min=0.1),
    default=IDLE_WAIT,
    show_default=True,
    help="Seconds between looks at an empty queue.",
)
def worker(once: bool, idle_wait: float) -> None:
    stop = threading.Event()
    with _stopped_by_signals(stop):
        total = run_worker(
            stop, once=once, idle_wait=idle_wait, on_drained=lambda done: click.echo(_sent(done))
        )
    if once and not total:
        click.echo("No mail is due.")


@contextmanager
def _stopped_by_signals(stop: threading.Event) -> Iterator[None]:
    """Let SIGTERM and Ctrl-C finish the batch being sent, then stop."""
    if threading.current_thread() is not threading.main_thread():  # only it may take signals
        yield
        return
    before = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    for number in before:
        signal.signal(number, lambda *_: stop.set())
    try:
        yield
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)


def _sent(outcomes: Counter[str]) -> str:
    return (
        f"Tried {counted(outcomes.total(), 'message')}: {outcomes[SENT]} sent, "
        f"{outcomes[FAILED]} failed, {outcomes[SKIPPED]} no longer needed."
    )


@mail.command("status", help="Count the queued messages and list those that failed.")
@cycle_option
@domain_command
def status(reference: str | None) -> None:
    cycle = _cycle(reference)
    counts = mail_counts(cycle)
    click.echo(", ".join(f"{counts[name]} {name}" for name in STATUSES))
    for mail in failed_mail(cycle):
        click.echo(f"  {_describe(mail)}")


def _describe(mail: QueuedMail) -> str:
    state = "given up" if given_up(mail) else "will retry"
    return (
        f"#{mail.id} {mail.kind} to {mail.to_address}: "
        f"{counted(mail.attempts, 'attempt')}, {state}; {mail.last_error}"
    )


def _cycle(reference: str | None) -> Cycle | None:
    return None if reference is None else find_cycle(reference)
