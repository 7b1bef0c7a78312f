"""The debrief form."""

from __future__ import annotations

from typing import Any

from wtforms import DateField, TextAreaField
from wtforms.validators import DataRequired, Length, StopValidation

from feedback360.coaching.services import MAX_NOTE
from feedback360.forms import Form


class DayField(DateField):
    """A date typed as 2026-03-14 (what a date picker sends) or 14/03/2026, with one message
    for a blank or unreadable date rather than two."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist and not str(valuelist[0]).strip():
            self.data = None
            return
        super().process_formdata([str(value).strip() for value in valuelist])

    def pre_validate(self, form: Any) -> None:
        if self.process_errors:  # unreadable: its message is enough
            raise StopValidation()


class DebriefForm(Form):
    held_on = DayField(
        "Date of the debrief",
        format=["%Y-%m-%d", "%d/%m/%Y"],
        invalid_value_message="Enter the date like 2026-03-14 or 14/03/2026.",
        validators=[DataRequired(message="Enter the date of the debrief.")],
    )
    private_note = TextAreaField(
        "Private note (optional)",
        validators=[
            Length(max=MAX_NOTE, message=f"Keep the note under {MAX_NOTE} characters."),
        ],
    )
