"""Many raters answering at once against the app under gunicorn: the load test's machinery.

Used by tests/test_load.py (is every answer kept?) and benchmarks/rater_load.py (how fast?).
Each virtual rater opens their link, answers every value page with an autosave per
statement and the page's Next button, then submits from the summary, as the browser does.
"""

from __future__ import annotations

import http.client
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask

from feedback360.accounts.services import add_person
from feedback360.cycles.services import create_cycle
from feedback360.extensions import db
from feedback360.feedback import links, services
from feedback360.frameworks.services import bundled_framework, load_framework, read_framework_file
from tests.servers import free_port

RATERS_PER_SUBJECT = 5
GUNICORN = Path(sys.executable).with_name("gunicorn")


def app_settings(instance: Path, database_url: str) -> dict[str, str]:
    """What the seeding app and every gunicorn worker share (read as FEEDBACK360_* too)."""
    return {
        "SECRET_KEY": "load-test",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MAIL_OUTBOX_DIR": str(instance / "outbox"),
        "BASE_URL": "http://127.0.0.1",
        # Several workers, each counting in its own memory: the limits per link are far
        # above what a rater does, so looser counts change nothing measured here.
        "RATELIMIT_ALLOW_PER_WORKER": "true",
    }


def seed(app: Flask, raters: int) -> list[str]:
    """An open cycle where `raters` people hold a rater link each; their link paths."""
    framework, _ = load_framework(read_framework_file(bundled_framework("mps-2006")))
    cycle = create_cycle("Load", framework, min_raters=RATERS_PER_SUBJECT)
    cycle.open()
    paths = []
    for n in range(-(-raters // RATERS_PER_SUBJECT)):
        subject = add_person(
            f"Subject {n}", f"subject{n}@example.org", password="an unused password"
        )
        request = services.start_request(cycle, subject)
        for m in range(RATERS_PER_SUBJECT):
            name, email = f"Rater {n}.{m}", f"rater{n}.{m}@example.org"
            add_person(name, email)  # raters come from the staff list
            services.add_rater(request, name, email, "peer", by=subject)
        services.send_invitations(request)
        paths += [urllib.parse.urlsplit(links.rater_link(i)).path for i in request.invitations]
    db.session.commit()
    return paths[:raters]


@contextmanager
def gunicorn(instance: Path, database_url: str, *, workers: int, threads: int = 4) -> Iterator[int]:
    """The app under gunicorn with `workers` worker processes of `threads` threads each;
    yields its port."""
    port = free_port()
    env = {**os.environ, "FEEDBACK360_INSTANCE_PATH": str(instance)}
    env |= {
        f"FEEDBACK360_{key}": value for key, value in app_settings(instance, database_url).items()
    }
    command = [
        str(GUNICORN),
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers),
        "--worker-class", "gthread",
        "--threads", str(threads),
        "--log-level", "warning",
        "--preload",  # every worker ready at once: the app is built before they fork
        "feedback360:create_app()",
    ]  # fmt: skip
    log = open(instance / "gunicorn.log", "wb")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for(port, server, instance / "gunicorn.log")
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _wait_for(port: int, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn stopped: {log.read_text()[-2000:]}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("GET", "/sign-in")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
        finally:
            connection.close()
    raise RuntimeError("gunicorn did not start within a minute")


@dataclass
class Timings:
    """Seconds per request, by kind, and every status that was not what a browser expects."""

    seconds: dict[str, list[float]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, took: float) -> None:
        with self.lock:
            self.seconds.setdefault(kind, []).append(took)

    def problem(self, text: str) -> None:
        with self.lock:
            self.problems.append(text)

    def summary(self, kind: str) -> tuple[int, float, float]:
        """How many, the median and the 95th percentile in milliseconds."""
        values = sorted(self.seconds.get(kind, []))
        if not values:
            return 0, 0.0, 0.0
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        return len(values), statistics.median(values) * 1000, p95 * 1000


class Rater:
    """One person with a link: a connection and a cookie, like a browser tab."""

    def __init__(
        self,
        port: int,
        path: str,
        timings: Timings,
        think: float = 0.0,
        spread: random.Random | None = None,
    ) -> None:
        self.port, self.path, self.timings, self.think = port, path, timings, think
        self.spread = spread  # pauses of think ± half, not all alike (people differ)
        self.cookie = ""

    def request(self, kind: str, method: str, path: str, form: dict | None = None) -> str:
        body = urllib.parse.urlencode(form or {})
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": self.cookie}
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            connection.request(method, path, body if form else None, headers)
            response = connection.getresponse()
            text = response.read().decode()
        finally:
            connection.close()
        self.timings.add(kind, time.perf_counter() - started)
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        expected = {"GET": (200,), "POST": (204, 302, 303)}[method]
        if response.status not in expected:
            self.timings.problem(f"{method} {kind}: {response.status} {text[:200]!r}")
        time.sleep(self.pause())  # a person reading and choosing before the next click
        return text

    def pause(self) -> float:
        return self.think * (self.spread.uniform(0.5, 1.5) if self.spread else 1.0)

    def answer_everything(self, statements_by_value: list[list[int]], autosaves: int) -> None:
        """Open the link, answer each value page (`autosaves` answers saved one by one as
        they are clicked, then Next with them all) and submit from the summary."""
        self.request("GET start", "GET", self.path)
        for number, statements in enumerate(statements_by_value, start=1):
            address = f"{self.path}/values/{number}"
            token = _csrf(self.request("GET value page", "GET", address))
            chosen = {f"s{s}": str(n % 5 + 1) for n, s in enumerate(statements)}
            for name, score in list(chosen.items())[:autosaves]:
                self.post("POST autosave", address, token, {"action": "autosave", name: score})
            self.post("POST next", address, token, {"action": "next", **chosen})
        token = _csrf(self.request("GET summary", "GET", f"{self.path}/summary"))
        self.post("POST submit", f"{self.path}/summary", token, {"action": "submit"})

    def post(self, kind: str, path: str, token: str, form: dict[str, str]) -> None:
        self.request(kind, "POST", path, {"csrf_token": token, **form})


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if not match:
        raise RuntimeError(f"no CSRF token on the page: {page[:300]!r}")
    return match.group(1)


def run_raters(
    port: int,
    paths: list[str],
    statements_by_value: list[list[int]],
    *,
    autosaves: int,
    think: float = 0.0,
    spread: bool = False,
) -> tuple[Timings, float]:
    """Every rater answers at once, each in a thread of their own; timings and wall time.
    With `spread`, each first clicks at a random moment of the first pause, and pauses vary
    by half either way; without, all click in step (every click a burst of them all)."""
    timings = Timings()
    start = threading.Barrier(len(paths))

    def one(number: int, path: str) -> None:
        chance = random.Random(number) if spread else None
        start.wait()
        if chance:
            time.sleep(chance.uniform(0, think))
        try:
            rater = Rater(port, path, timings, think, chance)
            rater.answer_everything(statements_by_value, autosaves)
        except Exception as error:  # a rater whose browser gave up: counted, not hidden
            timings.problem(f"{path[:12]}…: {error!r}")

    threads = [threading.Thread(target=one, args=(n, path)) for n, path in enumerate(paths)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings, time.perf_counter() - began
