"""The nomination form; the rating form is built from the framework in its template."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length

from feedback360.reports.results import LABELS, RATER_GROUPS

# Singular labels: each nomination is one person.
NOMINEE_LABELS = {"peer": "Peer", "direct_report": "Direct report", "other": "Other"}
GROUP_CHOICES = [SelectChoice("", "Choose…")] + [
    SelectChoice(group, NOMINEE_LABELS.get(group, LABELS[group])) for group in RATER_GROUPS
]


class NominationForm(FlaskForm):
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
