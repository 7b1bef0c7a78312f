"""The administrator's start page."""

from __future__ import annotations

from flask import render_template

from feedback360.admin.blueprint import bp
from feedback360.permissions import admin_required


@bp.get("/")
@admin_required
def index() -> str:
    return render_template("admin/index.html")
