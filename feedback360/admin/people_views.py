"""Administration: people_views (in progress)."""

from __future__ import annotations

from feedback360.admin import bp  # noqa: F401
