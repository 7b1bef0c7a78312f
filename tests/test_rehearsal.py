"""The rehearsal of a whole organisation's cycle (benchmarks/rehearsal.py) still runs, at
60 people: every stage of it, through the real services, Celery and an SMTP server, with
every check it makes (each answer stored once, each mail received once, each PDF whole).
Its figures at full size are in benchmarks/README.md; here only that it works."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.redis_helpers import require_redis

ROOT = Path(__file__).resolve().parents[1]
STAGES = [
    "import (job)",
    "requests and invitations",
    "mail worker: invitations",
    "answers (bulk)",
    "close",
    "freeze",
    "release",
    "mail worker: reports ready",
    "PDFs on Celery workers",
    "organisation summary",
]


def test_the_rehearsal_runs_every_stage_and_check():
    require_redis()
    command = [sys.executable, "benchmarks/rehearsal.py", "--people", "60", "--render", "2"]

    result = subprocess.run(  # noqa: S603 (our own script, fixed arguments)
        command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    printed = [line.split("  ")[0].strip() for line in result.stdout.splitlines()]
    assert [stage for stage in STAGES if stage not in printed] == []
    assert "60 requests, 660 invited" in result.stdout
    assert "60 reports frozen" in result.stdout
    assert "2 PDFs" in result.stdout
