"""The administrator's forms for people: import, coach, roles, erasure."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length


class ImportForm(FlaskForm):
    file = FileField(
        "Staff list (CSV file)", validators=[FileRequired(message="Choose a CSV file to upload.")]
    )
    full_list = BooleanField(
        "This is the full staff list: deactivate anyone active who is not in it"
    )


class CoachForm(FlaskForm):
    coach = SelectField("Coach", choices=[], validate_choice=True)

    def set_coaches(self, coaches: list[tuple[int, str]]) -> None:
        self.coach.choices = [("", "No coach")] + [(str(i), name) for i, name in coaches]


class RolesForm(FlaskForm):
    admin = BooleanField("Administrator")
    coach = BooleanField("Leadership coach")


class ConfirmForm(FlaskForm):
    """A button that changes something: it only needs the CSRF token."""


class EraseForm(FlaskForm):
    confirm_email = StringField(
        "Type the person’s email address to confirm",
        validators=[
            DataRequired(message="Type the person’s email address to confirm."),
            Length(max=254),
        ],
    )
