"""Starting a cycle's report build from the dashboard: the `feedback360 reports build`
command in a process of its own, so the page returns at once and follows the build."""

from __future__ import annotations

from feedback360.audit.services import record
from feedback360.cycles.models import Cycle
from feedback360.errors import DomainError
from feedback360.processes import start_command
from feedback360.reports.build_progress import pending_count


def start_build_in_background(cycle: Cycle) -> int:
    """Start building the cycle's unbuilt reports as the command line does; the process id."""
    # Refused before any process is started; once released, a build only renders.
    cycle.check_build_can_start(render_only=cycle.released_to_coaches)
    if pending_count(cycle) == 0:
        raise DomainError("Every report of this cycle is built already.")
    pid = start_command(["reports", "build", str(cycle.id)], f"builds/cycle-{cycle.id}.log")
    # Noted now so the dashboard shows the build at once; the command notes its own start
    # again as it begins, which the cycle allows because the process id is the same.
    cycle.build_started(pid, render_only=cycle.released_to_coaches)
    record("reports.build", f"cycle {cycle.id}", f"started in process {pid}")
    return pid
