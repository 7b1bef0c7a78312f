"""Administration pages: people, cycles, the organisation summary and the audit log.

One blueprint; each module adds the routes of one area when imported.
"""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from feedback360.admin import (  # noqa: E402  (the modules need bp defined first)
    audit_views,
    cycle_views,
    home,
    org_views,
    people_views,
)

__all__ = ["audit_views", "bp", "cycle_views", "home", "org_views", "people_views"]
