"""The administrator's forms for people: import, coach, roles, erasure."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from feedback360.forms import Form


class ImportForm(Form):
    file = FileField(
        "Staff list (CSV file)", validators=[FileRequired(message="Choose a CSV file to upload.")]
    )
    full_list = BooleanField(
        "This is the full staff list: deactivate anyone active who is not in it"
    )


class CoachForm(Form):
    coach = SelectField("Coach", choices=[], validate_choice=True)

    def set_coaches(self, coaches: list[tuple[int, str]]) -> None:
        self.coach.choices = [("", "No coach")] + [(str(i), name) for i, name in coaches]


class RolesForm(Form):
    admin = BooleanField("Administrator")
    coach = BooleanField("Leadership coach")


class ConfirmForm(Form):
    """A button that changes something: it only needs the CSRF token."""


class EraseForm(Form):
    confirm_email = StringField(
        "Type the person’s email address to confirm",
        validators=[
            DataRequired(message="Type the person’s email address to confirm."),
            Length(max=254),
        ],
    )
