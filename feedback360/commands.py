"""What every `feedback360` command shares: commit, or exit with the refusal's message."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from feedback360.actions import commit_or_refuse
from feedback360.errors import DomainError


def domain_command(function: Callable[..., Any]) -> Callable[..., Any]:
    """Commit on success; turn a refused action into a clear message and exit status 1."""

    @wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        result = commit_or_refuse(lambda: function(*args, **kwargs))
        if isinstance(result, DomainError):
            raise click.ClickException(result.message) from result
        return result.outcome

    return run
