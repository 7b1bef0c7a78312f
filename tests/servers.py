"""Real servers and processes the tests start: a mail server on loopback, a free port,
and the clean-up of a process group (a Celery worker, a gunicorn)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from aiosmtpd.controller import Controller

from feedback360.config import SERVED_AT_ENV


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Collector:
    """An aiosmtpd handler that keeps every envelope it is given."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@contextlib.contextmanager
def smtp_server_on(
    port: int | None = None, handler: Collector | None = None
) -> Iterator[Controller]:
    """A real SMTP server on loopback, keeping what it is sent in `.handler.envelopes`."""
    controller = Controller(handler or Collector(), hostname="127.0.0.1", port=port or free_port())
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid`, read from /proc."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if fields[1] == str(pid):
            children.append(int(stat.parent.name))
    return children


def stop_process_group(process: subprocess.Popen[bytes], *, timeout: float = 30) -> None:
    """A warm shutdown, then the whole process group killed if it lingers."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):  # children left by a main process that died
        os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def feedback360_run(port: int, **settings: str) -> Iterator[str]:
    """`feedback360 run` on a loopback port with BASE_URL unset, as `make run PORT=…` starts
    it; `settings` become FEEDBACK360_<KEY>. Yields its address once it answers."""
    from tests.gunicorn_server import ROOT, fetch  # that module imports this one

    unset = ("FEEDBACK360_BASE_URL", "FEEDBACK360_CONFIG", SERVED_AT_ENV)
    environment = {key: value for key, value in os.environ.items() if key not in unset}
    environment.update({f"FEEDBACK360_{key}": value for key, value in settings.items()})
    command = [str(Path(sys.executable).parent / "feedback360"), "run", "--port", str(port)]
    server = subprocess.Popen(  # noqa: S603 (our own program, fixed arguments)
        command, cwd=ROOT, env=environment, start_new_session=True
    )
    try:
        site = f"http://127.0.0.1:{port}"
        fetch(f"{site}/sign-in")  # waits for it to start
        yield site
    finally:
        stop_process_group(server)
