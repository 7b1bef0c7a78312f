"""Rule 9 across two groupings of the same people (say business unit and staff type).

Each view on its own hides what rule 4 hides, but an administrator sees both views and knows
who belongs where: "police officers" minus "Territorial Policing" can be the one officer in a
small unit. Published figures are sums over known sets of people; a set is revealed when its
indicator is a combination of the published ones. Here, per statement, we look for any
revealed set smaller than k and hide one more segment until there is none. Value scores are
then worked out again from the statement cells still shown, so they hold no hidden rating.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from itertools import product

import numpy as np

from feedback360.reports.engine.inputs import CycleArrays, CycleSettings
from feedback360.reports.engine.organisation import (
    ALL,
    OrganisationSummary,
    SummaryCell,
    organisation_summary,
    rescored_values,
)

# Value rows are built from these, so the check runs on statements alone.
_TABLES = ("statements", "statements_self")
_EXACT_LIMIT = 5  # the fewest merged groups on one side enumerated exactly (5^5 patterns)
LINKED_REASON = (
    "Hidden so that fewer than {k} subjects or responses cannot be worked out by comparing"
    " it with the {other} view"
)


def linked_summaries(
    arrays: CycleArrays,
    first: Sequence[str],
    second: Sequence[str],
    settings: CycleSettings,
    names: tuple[str, str] = ("first", "second"),
) -> tuple[OrganisationSummary, OrganisationSummary]:
    """Both views' summaries, with whatever either must also hide so the pair reveals no one."""
    views = (
        organisation_summary(arrays, first, settings, with_values=False),
        organisation_summary(arrays, second, settings, with_values=False),
    )
    # Each subject's pair of segments, as one segment, gives the counts of every intersection.
    codes = [{name: i for i, name in enumerate(sorted(set(view)))} for view in (first, second)]
    pairs = [f"{codes[0][a]}:{codes[1][b]}" for a, b in zip(first, second, strict=True)]
    atoms = organisation_summary(arrays, pairs, settings, with_values=False)
    segment_names = [[n for n in view.segments if n != ALL] for view in views]
    lookup = [sorted(set(view)) for view in (first, second)]
    k = settings.k
    reasons = (
        LINKED_REASON.format(k=k, other=names[1]),
        LINKED_REASON.format(k=k, other=names[0]),
    )

    tables: tuple[dict[str, list], dict[str, list]] = ({}, {})  # type: ignore[type-arg]
    for table in _TABLES:
        rows: tuple[list, list] = ([], [])  # type: ignore[type-arg]
        for row_a, row_b, row_atoms in zip(
            getattr(views[0], table), getattr(views[1], table), getattr(atoms, table), strict=True
        ):
            counts = _atom_counts(row_atoms, lookup, segment_names)
            shown = [
                np.array([row[n].mean is not None for n in names_], dtype=bool)
                for row, names_ in zip((row_a, row_b), segment_names, strict=True)
            ]
            extra = _hide_linked(*counts, *shown, k)
            for side, row in enumerate((row_a, row_b)):
                hide = {segment_names[side][i] for i in np.flatnonzero(extra[side])}
                rows[side].append(
                    {
                        n: replace(cell, mean=None, hidden_reason=reasons[side])
                        if n in hide
                        else cell
                        for n, cell in row.items()
                    }
                )
        for side in (0, 1):
            tables[side][table] = rows[side]
    return tuple(  # type: ignore[return-value]
        rescored_values(replace(view, **tables[side]), arrays, segments, settings)
        for side, (view, segments) in enumerate(zip(views, (first, second), strict=True))
    )


def _atom_counts(
    row: dict[str, SummaryCell], lookup: list[list[str]], segment_names: list[list[str]]
) -> tuple[np.ndarray, np.ndarray]:
    """Subjects and responses of every (first segment, second segment) intersection."""
    place = [{name: i for i, name in enumerate(names)} for names in segment_names]
    shape = (len(segment_names[0]), len(segment_names[1]))
    subjects, responses = np.zeros(shape, dtype=np.int64), np.zeros(shape, dtype=np.int64)
    for label, cell in row.items():
        if label == ALL:
            continue
        a, b = (int(code) for code in label.split(":"))
        i, j = place[0][lookup[0][a]], place[1][lookup[1][b]]
        subjects[i, j], responses[i, j] = cell.subjects, cell.responses
    return subjects, responses


def _hide_linked(
    subjects: np.ndarray, responses: np.ndarray, shown_a: np.ndarray, shown_b: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Which shown segments of each view to hide as well, until nothing small is revealed.

    Each round hides the smallest segment whose hiding alone ends the leaks, or failing
    that the smallest touching the set found (else the smallest shown): hiding one only
    merges it into its view's pool, so every round shows less and the loop ends.
    """
    shown = [shown_a.copy(), shown_b.copy()]
    sizes = [
        list(zip(subjects.sum(axis=1).tolist(), responses.sum(axis=1).tolist(), strict=True)),
        list(zip(subjects.sum(axis=0).tolist(), responses.sum(axis=0).tolist(), strict=True)),
    ]

    def leak_without(side: int | None = None, index: int = 0) -> np.ndarray | None:
        trial = [shown[0].copy(), shown[1].copy()]
        if side is not None:
            trial[side][index] = False
        return _revealed_small_set(subjects, responses, trial[0], trial[1], k)

    while (leak := leak_without()) is not None:
        everyone = [
            (*sizes[side][i], side, int(i)) for side in (0, 1) for i in np.flatnonzero(shown[side])
        ]
        if not everyone:  # only the totals are left, and rule 3 already guards them
            break
        touching = (leak.any(axis=1), leak.any(axis=0))
        ending = [c for c in everyone if leak_without(c[2], c[3]) is None]
        near = [c for c in everyone if touching[c[2]][c[3]]]
        *_, side, index = min(ending or near or everyone)
        shown[side][index] = False
    return shown_a & ~shown[0], shown_b & ~shown[1]


def _revealed_small_set(
    subjects: np.ndarray, responses: np.ndarray, shown_a: np.ndarray, shown_b: np.ndarray, k: int
) -> np.ndarray | None:
    """Intersections (as a mask) whose total is revealed and below k, or None if there are none.

    Each view's hidden segments are known only as one pool (the total minus what is shown),
    so they merge. A revealed set is x[i, j] = alpha[i] + beta[j] in {0, 1} over the merged
    intersections that hold responses. For given beta, a merged row either takes all its
    intersections or none (its total: a shown segment or the pool, k or more by rule 4), or
    is forced to take those with the larger beta. A small set is thus a forced part alone.
    """
    rows = [np.flatnonzero(shown_a)[:, None] == np.arange(len(shown_a))]
    if (~shown_a).any():
        rows.append(~shown_a[None, :])
    cols = [np.flatnonzero(shown_b)[:, None] == np.arange(len(shown_b))]
    if (~shown_b).any():
        cols.append(~shown_b[None, :])
    merge_rows = np.vstack(rows).astype(np.int64)  # merged row × first segment
    merge_cols = np.vstack(cols).astype(np.int64)
    merged_s = merge_rows @ subjects @ merge_cols.T
    merged_r = merge_rows @ responses @ merge_cols.T
    transposed = merged_s.shape[1] > merged_s.shape[0]
    if transposed:  # enumerate patterns over the smaller side
        merged_s, merged_r = merged_s.T, merged_r.T
    found = _forced_small_set(merged_s, merged_r, k)
    if found is None:
        return None
    if transposed:
        found = found.T
    # Back from merged groups to the segments' intersections.
    return ((merge_rows.T @ found.astype(np.int64) @ merge_cols) > 0) & (responses > 0)


def _forced_small_set(subjects: np.ndarray, responses: np.ndarray, k: int) -> np.ndarray | None:
    edge = responses > 0
    n_cols = edge.shape[1]
    if n_cols == 0 or not edge.any():
        return None
    small = ((subjects > 0) & (subjects < k)) | ((responses > 0) & (responses < k))
    if n_cols > _EXACT_LIMIT:
        # Too many patterns to try: treat every small intersection as revealed (safe side).
        return small if small.any() else None
    # Every pattern of beta at once: patterns × rows × columns stays small at this limit.
    beta = np.array(list(product(range(n_cols), repeat=n_cols)))[:, None, :]
    high = np.where(edge, beta, -1).max(axis=2)
    low = np.where(edge, beta, n_cols).min(axis=2)
    has_edge = edge.any(axis=1)
    feasible = ~np.any(has_edge & (high - low > 1), axis=1)  # every row 0 or 1 everywhere
    forced = has_edge & (high - low == 1)
    taken = edge & forced[:, :, None] & (beta == high[:, :, None]) & feasible[:, None, None]
    s = (taken * subjects).sum(axis=(1, 2))
    r = (taken * responses).sum(axis=(1, 2))
    leaking = np.flatnonzero(((s > 0) & (s < k)) | ((r > 0) & (r < k)))
    return taken[leaking[0]] if len(leaking) else None
