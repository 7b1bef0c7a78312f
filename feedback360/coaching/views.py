"""A coach's pages: their coachees, released reports and debriefs."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("coaching", __name__, url_prefix="/coach")
