"""The form an administrator fills in to create a cycle or change its settings."""

from __future__ import annotations

from typing import Any

from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from feedback360.cycles.models import COACH_FIRST, TOGETHER, Cycle
from feedback360.cycles.services import CycleSettings
from feedback360.forms import Form
from feedback360.frameworks.models import Framework
from feedback360.groups import LABELS, RATER_GROUPS

RELEASE_MODE_LABELS = {
    COACH_FIRST: "To coaches first, then to staff when you choose",
    TOGETHER: "To coaches and staff at the same time",
}


class PlainDateField(DateField):
    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError("Enter a date like 2026-03-31.") from error


class WholeNumberField(IntegerField):
    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError("Enter a whole number, like 5.") from error


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _number(label: str, most: int = 10_000) -> WholeNumberField:
    # The product's rules are checked by the service; the form only keeps numbers sane.
    return WholeNumberField(
        label,
        validators=[
            InputRequired(message="Enter a whole number."),
            NumberRange(max=most, message=f"Enter a number no larger than {most:,}."),
        ],
    )


class CycleForm(Form):
    name = StringField(
        "Name",
        validators=[InputRequired(message="Give the cycle a name."), Length(max=200)],
    )
    framework_id = SelectField("Framework version", coerce=int)
    opens_on = PlainDateField("Opens on", validators=[Optional()])
    closes_on = PlainDateField("Closes on", validators=[Optional()])
    rater_groups = CheckboxesField(
        "Rater groups people may nominate",
        choices=[SelectChoice(group, LABELS[group]) for group in RATER_GROUPS],
    )
    min_raters = _number("Fewest raters per request")
    max_raters = _number("Most raters per request")
    threshold = _number("Anonymity threshold (k)")
    manager_identifiable = BooleanField(
        "Show the line manager’s answers on their own (the manager is told before starting)"
    )
    manager_approves = BooleanField(
        "The line manager approves each person’s raters before the invitations go out"
    )
    outside_raters = BooleanField(
        "Allow raters from outside the staff list (each needs the line manager’s approval)"
    )
    release_mode = RadioField(
        "How reports are released",
        choices=[SelectChoice(mode, label) for mode, label in RELEASE_MODE_LABELS.items()],
        validators=[InputRequired(message="Choose how reports are released.")],
    )
    retention_days = _number("Days to keep individual responses after release", most=36_500)

    def offer(self, frameworks: list[Framework]) -> CycleForm:
        self.framework_id.choices = [SelectChoice(f.id, f.label) for f in frameworks]
        return self

    def fill_defaults(self, frameworks: list[Framework]) -> None:
        """A new cycle's form: the product's defaults, on the newest framework version."""
        defaults = CycleSettings("", frameworks[0]) if frameworks else None
        if defaults is not None:
            self._fill(defaults)

    def fill_from(self, cycle: Cycle) -> None:
        self._fill(CycleSettings.of(cycle))

    def _fill(self, settings: CycleSettings) -> None:
        self.name.data = settings.name
        self.framework_id.data = settings.framework.id
        self.opens_on.data = settings.opens_on
        self.closes_on.data = settings.closes_on
        self.rater_groups.data = list(settings.rater_groups)
        self.min_raters.data = settings.min_raters
        self.max_raters.data = settings.max_raters
        self.threshold.data = settings.threshold
        self.manager_identifiable.data = settings.manager_identifiable
        self.manager_approves.data = settings.manager_approves
        self.outside_raters.data = settings.outside_raters
        self.release_mode.data = settings.release_mode
        self.retention_days.data = settings.retention_days

    def settings(self, framework: Framework) -> CycleSettings:
        return CycleSettings(
            name=self.name.data or "",
            framework=framework,
            opens_on=self.opens_on.data,
            closes_on=self.closes_on.data,
            rater_groups=list(self.rater_groups.data or []),
            threshold=self.threshold.data or 0,
            min_raters=self.min_raters.data or 0,
            max_raters=self.max_raters.data or 0,
            manager_identifiable=bool(self.manager_identifiable.data),
            manager_approves=bool(self.manager_approves.data),
            outside_raters=bool(self.outside_raters.data),
            release_mode=self.release_mode.data or "",
            retention_days=self.retention_days.data or 0,
        )


class ConfirmForm(Form):
    """A button that changes state: only its CSRF token is posted."""
