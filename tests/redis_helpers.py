"""Redis for the tests that need it: skipped with a reason when it is not running, unless
FEEDBACK360_REQUIRE_REDIS=1 (as CI sets), which turns the skip into a failure."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis

REDIS_URL = os.environ.get("FEEDBACK360_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_REDIS = os.environ.get("FEEDBACK360_REQUIRE_REDIS") == "1"


def redis_available(url: str = REDIS_URL) -> str | None:
    """None when Redis answers at url, else why not."""
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError as error:
        return f"Redis is not reachable at {url}: {error}"
    finally:
        client.close()
    return None


def require_redis(url: str = REDIS_URL) -> str:
    """The Redis URL, or skip the test (fail it when FEEDBACK360_REQUIRE_REDIS=1)."""
    problem = redis_available(url)
    if problem:
        if REQUIRE_REDIS:
            pytest.fail(problem)
        pytest.skip(problem)
    return url


def redis_keys(url: str, pattern: str) -> list[bytes]:
    client = redis.Redis.from_url(url)
    try:
        return list(client.scan_iter(match=pattern))
    finally:
        client.close()


@contextmanager
def redis_key_prefix(url: str = REDIS_URL) -> Iterator[str]:
    """A prefix no other test uses; every key under it is deleted afterwards."""
    prefix = f"feedback360-test-{uuid.uuid4().hex[:12]}"
    try:
        yield prefix
    finally:
        keys = redis_keys(url, f"*{prefix}*")
        if keys:
            client = redis.Redis.from_url(url)
            try:
                client.delete(*keys)
            finally:
                client.close()
