"""gunicorn started for real with the shipped gunicorn.conf.py, its logs written to files."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Gunicorn:
    """How to start one gunicorn: its command, its environment, and where it logs."""

    command: list[str]
    environment: dict[str, str]
    access_log: Path
    error_log: Path

    @property
    def logged(self) -> str:
        return "".join(log.read_text() for log in (self.access_log, self.error_log) if log.exists())


def gunicorn(tmp_path: Path, *options: str, **settings: str) -> Gunicorn:
    """gunicorn on a free port with our config; `settings` become FEEDBACK360_<KEY>."""
    environment = {
        **os.environ,
        "FEEDBACK360_INSTANCE_PATH": str(tmp_path / "instance"),
        **{f"FEEDBACK360_{key}": value for key, value in settings.items()},
    }
    environment.pop("FEEDBACK360_CONFIG", None)
    access_log, error_log = tmp_path / "access.log", tmp_path / "error.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        str(ROOT / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{free_port()}",
        "--access-logfile",
        str(access_log),
        "--error-logfile",
        str(error_log),
        *options,
    ]
    return Gunicorn(command, environment, access_log, error_log)


@contextmanager
def serving_with(server: Gunicorn) -> Iterator[str]:
    """The server running; yields its base address."""
    process = subprocess.Popen(server.command, cwd=ROOT, env=server.environment)  # noqa: S603
    try:
        yield "http://" + server.command[server.command.index("--bind") + 1]
    finally:
        process.terminate()
        process.wait(timeout=30)


def fetch(url: str) -> int:
    """The status of a GET, waiting for gunicorn to start listening."""
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)  # gunicorn still starting (its socket may take and drop us)
