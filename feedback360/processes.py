"""Our own commands in processes of their own (a report build, a staff-list import, a large
batch of mail), started from a web request that then returns at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterable
from pathlib import Path

from flask import Flask, current_app

COMMAND_LINE = "from feedback360.console import main; main()"
_SETTING_NAMES = "feedback360.setting_names"  # key in app.extensions


def pass_settings_on(app: Flask, names: Iterable[str]) -> None:
    """Name the settings a started process is given, as FEEDBACK360_* variables."""
    app.extensions[_SETTING_NAMES] = tuple(names)


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
    for key in current_app.extensions[_SETTING_NAMES]:
        env[f"FEEDBACK360_{key}"] = json.dumps(current_app.config[key])
    return env
