"""gunicorn with our settings will not start several workers that would each keep their own
rate-limit counts (so each limit several times over), unless told to."""

from __future__ import annotations

import subprocess

import pytest

from feedback360.ratelimits.workers import StartRefused, refuse_counts_per_worker
from tests.gunicorn_server import ROOT, fetch, gunicorn, serving_with
from tests.redis_helpers import require_redis
from tests.servers import stop_process_group


def test_the_shipped_settings_on_memory_counts_refuse_to_start(tmp_path):
    server = gunicorn(tmp_path)  # gunicorn.conf.py's two workers, the default memory counts
    process = subprocess.Popen(  # noqa: S603
        server.command,
        cwd=ROOT,
        env=server.environment,
        stderr=subprocess.PIPE,
        start_new_session=True,  # so that a server that did start is stopped whole
    )
    try:
        _, stderr = process.communicate(timeout=30)
    finally:
        stop_process_group(process)
    assert process.returncode != 0
    said = stderr.decode() + server.logged
    assert "2 workers would each keep their own rate-limit counts" in said
    for way_out in ("RATELIMIT_STORAGE_URI", "--workers 1", "RATELIMIT_ALLOW_PER_WORKER"):
        assert way_out in said
    assert "Booting worker" not in said


@pytest.mark.parametrize("told", ["RATELIMIT_ALLOW_PER_WORKER", "RATELIMIT_STORAGE_URI"])
def test_several_workers_start_when_told_or_sharing_counts(tmp_path, told):
    setting = {"RATELIMIT_ALLOW_PER_WORKER": "true"}
    if told == "RATELIMIT_STORAGE_URI":
        setting = {"RATELIMIT_STORAGE_URI": require_redis()}
    server = gunicorn(tmp_path, "--workers", "3", **setting)
    with serving_with(server) as base:
        assert fetch(f"{base}/sign-in") == 200


MEMORY = {
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_ALLOW_PER_WORKER": False,
}


@pytest.mark.parametrize(
    ("workers", "settings"),
    [
        (1, {}),
        (4, {"RATELIMIT_STORAGE_URI": "redis://redis.internal:6379/0"}),
        (4, {"RATELIMIT_ENABLED": False}),
        (4, {"RATELIMIT_ALLOW_PER_WORKER": True}),
    ],
)
def test_one_worker_shared_counts_or_no_limits_need_nothing_said(workers, settings):
    refuse_counts_per_worker(workers, {**MEMORY, **settings})


def test_four_workers_on_memory_counts_are_refused():
    with pytest.raises(StartRefused, match="would allow 4 times as many tries"):
        refuse_counts_per_worker(4, MEMORY)


def test_a_configuration_that_cannot_be_used_stops_the_start_plainly(tmp_path, monkeypatch):
    monkeypatch.setenv("FEEDBACK360_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.delenv("FEEDBACK360_CONFIG", raising=False)
    monkeypatch.setenv("FEEDBACK360_MAIL_BACKEND", '"pigeon"')
    with pytest.raises(StartRefused, match="cannot be used: MAIL_BACKEND must be"):
        refuse_counts_per_worker(2)
