"""The nomination forms; the rating form is built from the framework in its template."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from wtforms import BooleanField, EmailField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length

from feedback360.accounts.models import Person
from feedback360.feedback.suggestions import Suggestion
from feedback360.forms import Form
from feedback360.groups import LABELS, RATER_GROUPS

# Singular labels: each nomination is one person.
NOMINEE_LABELS = {"peer": "Peer", "direct_report": "Direct report", "other": "Other"}


def group_label(group: str) -> str:
    return NOMINEE_LABELS.get(group, LABELS[group])


def group_choices(groups: Iterable[str], *, placeholder: bool = True) -> list[SelectChoice]:
    """The cycle's rater groups, in report order, as select options."""
    offered = set(groups)
    choices = [SelectChoice(g, group_label(g)) for g in RATER_GROUPS if g in offered]
    return ([SelectChoice("", "Choose…")] if placeholder else []) + choices


GROUP_CHOICES = group_choices(RATER_GROUPS)


class NominationForm(Form):
    name = StringField(
        "Name", validators=[DataRequired(message="Enter the rater’s name."), Length(max=200)]
    )
    email = EmailField(
        "Email address",
        validators=[
            DataRequired(message="Enter the rater’s email address."),
            Email(message="Enter an email address like name@example.org."),
            Length(max=254),
        ],
    )
    group = SelectField(
        "How they work with you",
        choices=GROUP_CHOICES,
        validators=[DataRequired(message="Choose how this person works with you.")],
    )

    @classmethod
    def for_groups(
        cls, groups: Iterable[str], *, subject_name: str | None = None, **kwargs: Any
    ) -> NominationForm:
        """The form offering only these groups (a cycle's own), so no other can be chosen.

        With subject_name the form speaks to someone else, such as an approving manager.
        """
        form = cls(**kwargs)
        form.group.choices = group_choices(groups)
        if subject_name:
            form.group.label.text = f"How they work with {subject_name}"
        return form

    def rater(self) -> tuple[str, str, str]:
        """Name, email and group, as the nominating services take them."""
        return self.name.data or "", self.email.data or "", self.group.data


class SuggestionForm(Form):
    """One tick box and one group per suggested colleague; built for each page by `build`."""

    suggestions: Sequence[Suggestion] = ()

    @classmethod
    def build(
        cls, suggestions: Sequence[Suggestion], groups: Iterable[str], **kwargs: Any
    ) -> SuggestionForm:
        choices = group_choices(groups, placeholder=False)
        fields: dict[str, Any] = {}
        for suggestion in suggestions:
            name, key = suggestion.person.name, suggestion.person.id
            fields[f"ask_{key}"] = BooleanField(f"Ask {name}")
            fields[f"group_{key}"] = SelectField(
                f"How {name} works with you", choices=choices, default=suggestion.group
            )
        form_class = type("SuggestionForm", (cls,), {**fields, "suggestions": tuple(suggestions)})
        return form_class(**kwargs)

    def rows(self) -> list[tuple[Suggestion, Any, Any]]:
        """Each suggestion with its tick box and group field, for the template."""
        return [
            (s, self[f"ask_{s.person.id}"], self[f"group_{s.person.id}"]) for s in self.suggestions
        ]

    def chosen(self) -> list[tuple[Person, str]]:
        """The ticked people, each with the group chosen for them."""
        return [(s.person, group.data) for s, ask, group in self.rows() if ask.data]
