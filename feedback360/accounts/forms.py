"""Sign-in and set-password forms."""

from __future__ import annotations

from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from feedback360.accounts.passwords import LENGTH_RULE, MAX_LENGTH, MIN_LENGTH
from feedback360.forms import Form


class SignInForm(Form):
    email = EmailField(
        "Email address",
        validators=[DataRequired(message="Enter your email address."), Length(max=254)],
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired(message="Enter your password."), Length(max=MAX_LENGTH)],
    )


class SetPasswordForm(Form):
    password = PasswordField(
        "New password",
        validators=[
            DataRequired(message="Enter a password."),
            Length(min=MIN_LENGTH, max=MAX_LENGTH, message=LENGTH_RULE),
        ],
    )
    confirm = PasswordField(
        "Type the password again",
        validators=[
            DataRequired(message="Type the password again."),
            EqualTo("password", message="The two passwords are not the same."),
        ],
    )
