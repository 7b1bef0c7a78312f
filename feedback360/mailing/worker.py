"""The mail worker: sends whatever mail is due, batch after batch over one connection.

Meant for a cycle too large to send from the request that opened it: it takes new
messages at once, and failed ones once their wait is over. Running beside the delivery after
commit, or beside another worker, is safe: each message is claimed before it is sent.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable

from feedback360.mailing.delivery import deliver, due_mail_ids
from feedback360.mailing.transport import mail_connection

log = logging.getLogger(__name__)

# Looked up at a time: small enough that a stop request waits a second at most.
BATCH = 200
IDLE_WAIT = 2.0  # seconds between looks at an empty queue


def run_worker(
    stop: threading.Event,
    *,
    once: bool = False,
    idle_wait: float = IDLE_WAIT,
    on_drained: Callable[[Counter[str]], None] | None = None,
) -> Counter[str]:
    """Send due mail until `stop` is set (or, with `once`, until none is due); count outcomes."""
    total: Counter[str] = Counter()
    while not stop.is_set():
        try:
            outcomes = drain(stop)
        except Exception:  # the database or mail server gone for a moment: look again later
            if once:
                raise
            log.exception("Mail worker round failed; trying again in %s s", idle_wait)
            stop.wait(idle_wait)
            continue
        total.update(outcomes)
        if outcomes and on_drained is not None:
            on_drained(outcomes)
        if once:
            break
        stop.wait(idle_wait)
    return total


def drain(stop: threading.Event) -> Counter[str]:
    """Send everything due now over one connection, stopping early if asked."""
    outcomes: Counter[str] = Counter()
    with mail_connection() as connection:
        while not stop.is_set() and (ids := due_mail_ids(BATCH)):
            outcomes.update(deliver(ids, connection))
    return outcomes
