"""Starting a cycle's report build from the dashboard: the `feedback360 reports build`
command in a process of its own, so the page returns at once and follows the build."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from flask import current_app

from feedback360.audit.services import record
from feedback360.config import DEFAULTS
from feedback360.cycles.models import Cycle
from feedback360.errors import DomainError
from feedback360.reports.build_progress import pending_count

COMMAND_LINE = "from feedback360.console import main; main()"


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


def start_command(arguments: list[str], log_name: str) -> int:
    """`feedback360 <arguments>` in a process of its own, with this app's configuration, its
    output appended to `log_name` in the instance folder; the process id. A restart of the
    web server does not stop it, and it is collected when it ends, never left a zombie that
    looks alive."""
    log_path = Path(current_app.instance_path) / log_name
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 (our own command, fixed arguments)
            [sys.executable, "-c", COMMAND_LINE, *arguments],
            env=command_environment(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    threading.Thread(target=process.wait, daemon=True).start()
    return process.pid


def command_environment() -> dict[str, str]:
    """This app's configuration as FEEDBACK360_* variables, JSON-encoded so that every
    value reads back with its type (a secret key of digits stays text)."""
    env = dict(os.environ)
    env["FEEDBACK360_INSTANCE_PATH"] = current_app.instance_path
    for key in DEFAULTS:
        env[f"FEEDBACK360_{key}"] = json.dumps(current_app.config[key])
    return env
