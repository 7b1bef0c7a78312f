"""Sign-in and set-password forms."""

from __future__ import annotations

from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from feedback360.accounts.passwords import LENGTH_RULE, MAX_LENGTH, MIN_LENGTH, PASSWORD_HINT
from feedback360.forms import Form


def _your_email() -> EmailField:
    return EmailField(  # type: ignore[return-value]  (an unbound field, bound per form)
        "Email address",
        validators=[DataRequired(message="Enter your email address."), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )


class SignInForm(Form):
    email = _your_email()
    password = PasswordField(
        "Password",
        validators=[DataRequired(message="Enter your password."), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class SetPasswordForm(Form):
    password = PasswordField(
        "New password",
        description=PASSWORD_HINT,
        validators=[
            DataRequired(message="Enter a password."),
            Length(min=MIN_LENGTH, max=MAX_LENGTH, message=LENGTH_RULE),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Type the password again",
        validators=[
            DataRequired(message="Type the password again."),
            EqualTo("password", message="The two passwords are not the same."),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(SetPasswordForm):
    current = PasswordField(
        "Your current password",
        validators=[DataRequired(message="Enter your current password."), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class ForgotPasswordForm(Form):
    email = _your_email()


class SecondFactorForm(Form):
    code = StringField(
        "Code",
        description="The six digits your authenticator app shows now, or one of your "
        "recovery codes.",
        validators=[DataRequired(message="Enter the code."), Length(max=40)],
        render_kw={"autocomplete": "one-time-code", "spellcheck": "false"},
    )
