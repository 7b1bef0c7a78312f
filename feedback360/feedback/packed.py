"""A response's ratings packed into one byte per statement, in the framework's order.

A cycle of 47,000 subjects holds 24 million ratings. Stored a row each, they had to be
joined back together to be read; packed, a response is one row, and a whole cycle loads
with no join and no parsing (numpy reads the bytes as they are).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

NO_RATING = 0  # "Not seen / can't say", or not answered: the engine counts neither


def pack_scores(ratings: Mapping[int, int | None], statement_ids: Sequence[int]) -> bytes:
    """The scores of statement_ids in that order, one byte each (scales have at most 9 points)."""
    return bytes(ratings.get(statement_id) or NO_RATING for statement_id in statement_ids)


def unpack_scores(scores: bytes, statement_ids: Sequence[int]) -> dict[int, int]:
    """The real ratings in packed scores, by statement id."""
    if len(scores) != len(statement_ids):
        raise ValueError(f"{len(scores)} packed scores for {len(statement_ids)} statements")
    return {sid: score for sid, score in zip(statement_ids, scores, strict=True) if score}
