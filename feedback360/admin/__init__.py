"""Administration pages: people, cycles, the organisation summary and the audit log.

One blueprint (blueprint.py); each module adds the routes of one area when imported here.
"""

from feedback360.admin import audit_views, cycle_views, home, org_views, people_views
from feedback360.admin.blueprint import bp

__all__ = ["audit_views", "bp", "cycle_views", "home", "org_views", "people_views"]
