"""Administration: a closed cycle's organisation summary as a heat map, a table and CSV."""

from __future__ import annotations

from flask import Response, abort, render_template, request

from feedback360.admin.blueprint import bp
from feedback360.audit.services import record
from feedback360.cycles.models import CLOSED, RELEASED, Cycle
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.permissions import admin_required
from feedback360.reports.cycle_summary import VIEWS, CycleSummary, cycle_summary
from feedback360.reports.engine.organisation import ALL, OrganisationSummary, summary_csv
from feedback360.reports.services import slug
from feedback360.retention import deletion_date
from feedback360.sqlite import writes

SHOW = {"heatmap": "Heat map", "table": "Table with counts"}
HEAT_TEXT = "#1b1b1b"
# Light to darker blue for low to high scores. The dark text keeps at least 7:1 contrast on
# each (4.5:1 is the least allowed) and the number is always printed, so colour is never the
# only signal; the shades also differ in lightness, so they survive black-and-white print.
HEAT_SHADES = ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6")


def shade_for(mean: float, scale_points: int) -> str:
    """The heat map's shade for a mean, by which fifth of the scale it falls in."""
    share = (round(mean, 2) - 1) / (scale_points - 1)
    return HEAT_SHADES[min(max(int(share * len(HEAT_SHADES)), 0), len(HEAT_SHADES) - 1)]


def heat_legend(scale_points: int) -> list[tuple[str, str]]:
    step = (scale_points - 1) / len(HEAT_SHADES)
    bands = [(1 + i * step, 1 + (i + 1) * step) for i in range(len(HEAT_SHADES))]
    last = len(bands) - 1
    return [
        (shade, f"{low:.1f} to {high:.1f}" if i == last else f"{low:.1f} to under {high:.1f}")
        for i, (shade, (low, high)) in enumerate(zip(HEAT_SHADES, bands, strict=True))
    ]


def _statement_groups(summary: CycleSummary, view: str) -> list[tuple[str, list[int]]]:
    """Each value's title with the indices of its statements, in framework order."""
    of_value = summary.views[view].statement_value
    return [
        (title, [s for s, v in enumerate(of_value) if v == index])
        for index, title in enumerate(summary.value_titles)
    ]


def _shows_nothing(table: OrganisationSummary, segment: str) -> bool:
    rows = (*table.values, *table.values_self, *table.statements, *table.statements_self)
    return all(row[segment].mean is None for row in rows)


def why_nothing_is_shown(table: OrganisationSummary) -> str | None:
    """One sentence saying why no figure at all can be shown, or None when some can."""
    if not all(_shows_nothing(table, segment) for segment in table.segments):
        return None
    k, everyone = table.threshold, [row[ALL] for row in table.statements]
    if max((cell.subjects for cell in everyone), default=0) < k:
        why = f"fewer than {k} people had feedback from their raters"
    elif max((cell.responses for cell in everyone), default=0) < k:
        why = f"raters gave fewer than {k} responses in all"
    else:
        why = "any figure would let a smaller group be worked out from the total"
    return (
        f"Nothing can be shown for this cycle: to protect the people who gave feedback, each "
        f"figure must rest on at least {k} people and {k} responses, and {why}."
    )


def _choice(name: str, options: dict[str, str]) -> str:
    chosen = request.args.get(name, next(iter(options)))
    if chosen not in options:
        abort(404)
    return chosen


@bp.get("/organisation")
@admin_required
def organisation_cycles() -> str:
    cycles = db.session.scalars(
        db.select(Cycle)
        .where(Cycle.status.in_((CLOSED, RELEASED)))
        .order_by(Cycle.created_at.desc(), Cycle.id.desc())
    ).all()
    return render_template(
        "admin/organisation_cycles.html", cycles=cycles, deletion_date=deletion_date
    )


@bp.get("/cycles/<int:cycle_id>/organisation")
@admin_required
def organisation(cycle_id: int) -> str:
    cycle = db.get_or_404(Cycle, cycle_id)
    view, show = _choice("by", VIEWS), _choice("show", SHOW)
    try:
        summary = cycle_summary(cycle)
    except DomainError as error:
        return render_template(
            "admin/organisation_unavailable.html", cycle=cycle, message=error.message
        )
    scale_points, table = len(summary.scale), summary.views[view]
    return render_template(
        "admin/organisation.html",
        cycle=cycle,
        summary=summary,
        table=table,
        groups=_statement_groups(summary, view),
        view=view,
        views=VIEWS,
        show=show,
        shows=SHOW,
        shade=lambda mean: shade_for(mean, scale_points),
        heat_text=HEAT_TEXT,
        legend=heat_legend(scale_points),
        deletion_date=deletion_date(cycle),
        nothing_shown=why_nothing_is_shown(table),
        empty_segments=[name for name in table.segments if _shows_nothing(table, name)],
    )


@bp.get("/cycles/<int:cycle_id>/organisation.csv")
@writes
@admin_required
def organisation_csv(cycle_id: int) -> Response:
    cycle = db.get_or_404(Cycle, cycle_id)
    view = _choice("by", VIEWS)
    try:
        summary = cycle_summary(cycle)
    except DomainError as error:
        abort(404, error.message)
    text = summary_csv(summary.views[view], summary.value_titles, summary.statement_texts)
    record("organisation.download", f"cycle {cycle.id}", f"Summary by {VIEWS[view]}, as CSV")
    db.session.commit()
    filename = f"{slug(cycle.name)}-by-{view.replace('_', '-')}.csv"
    return Response(
        "\ufeff" + text,  # the byte-order mark tells Excel the file is UTF-8
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
