"""The administration blueprint, which each area's module adds its routes to."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
