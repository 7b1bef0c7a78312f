"""A person's answers to a framework, as kept in a draft and checked before submission."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from feedback360.frameworks.models import Framework
from feedback360.frameworks.snapshots import FrameworkSnapshot, StatementSnapshot

NOT_SEEN = "na"
MAX_COMMENT = 5000


def not_seen_words(about_self: bool) -> str:
    """What the "na" choice says: a rater may not have seen it; no one is unseen by themself."""
    return "Not sure / does not apply to me" if about_self else "Not seen / can’t say"


@dataclass
class Answers:
    ratings: dict[int, int | None] = field(default_factory=dict)  # None is "Not seen"
    comments: dict[int, str] = field(default_factory=dict)

    def to_draft(self) -> dict[str, Any]:
        return {
            "ratings": {
                str(sid): NOT_SEEN if score is None else score
                for sid, score in self.ratings.items()
            },
            "comments": {str(vid): text for vid, text in self.comments.items() if text},
        }

    @classmethod
    def from_draft(cls, draft: dict[str, Any] | None) -> Answers:
        draft = draft or {}
        return cls(
            ratings={
                int(sid): None if score == NOT_SEEN else int(score)
                for sid, score in draft.get("ratings", {}).items()
            },
            comments={int(vid): text for vid, text in draft.get("comments", {}).items()},
        )

    def unanswered(self, framework: FrameworkSnapshot | Framework) -> list[StatementSnapshot]:
        return [s for s in framework.statements if s.id not in self.ratings]

    def too_long_comments(self) -> list[int]:
        return [vid for vid, text in self.comments.items() if len(text) > MAX_COMMENT]

    @property
    def is_empty(self) -> bool:
        return not self.ratings and not any(self.comments.values())


def answers_from_form(data: Any, framework: FrameworkSnapshot) -> Answers:
    """Read the rating form's fields (s<id>, c<id>), keeping only well-formed answers."""
    points = {str(n) for n in range(1, len(framework.scale) + 1)}
    # A plain dict: a request's form makes an exception object for every field it lacks.
    data = dict(data.items())
    answers = Answers()
    for statement in framework.statements:
        raw = data.get(f"s{statement.id}")
        if raw == NOT_SEEN:
            answers.ratings[statement.id] = None
        elif raw in points:
            answers.ratings[statement.id] = int(raw)
    for value in framework.values:
        text = (data.get(f"c{value.id}") or "").strip()
        if text:
            answers.comments[value.id] = text
    return answers
