"""Pages that explain the product to anyone, signed in or not: how answers are protected."""

from __future__ import annotations

from functools import cache

import markdown
from flask import Blueprint, render_template
from markupsafe import Markup

from feedback360.paths import resource_dir

bp = Blueprint("about", __name__, url_prefix="/about")


@cache
def _page(name: str) -> tuple[str, Markup]:
    """A page of docs/ as a title and HTML: written once, in Markdown, for the repository
    and for the app alike."""
    text = (resource_dir("docs") / f"{name}.md").read_text(encoding="utf-8")
    title, _, body = text.partition("\n")
    return title.lstrip("# ").strip(), Markup(markdown.markdown(body))  # noqa: S704 (our own file)


@bp.get("/anonymity")
def anonymity() -> str:
    title, body = _page("anonymity")
    return render_template("about/page.html", title=title, body=body)
