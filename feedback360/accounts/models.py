"""A person: a member of staff who may also be a coach or an administrator."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback360.accounts.passwords import hash_password, password_matches
from feedback360.errors import DomainError
from feedback360.extensions import db
from feedback360.timeutil import utcnow

ERASED_NAME = "Erased person"


class Person(UserMixin, db.Model):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    staff_type: Mapped[str | None] = mapped_column(String(100))
    business_unit: Mapped[str | None] = mapped_column(String(200))
    line_manager_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    coach_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    is_admin: Mapped[bool] = mapped_column(default=False)
    is_coach: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    # Raised to end every session of the person at once (deactivation, erasure).
    session_epoch: Mapped[int] = mapped_column(default=0)
    # A one-time "set your password" link: only its hash is kept (see accounts.activation).
    password_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_token_expires_at: Mapped[datetime | None]
    # The single sign-on provider's `sub` for them, linked at their first sign-in through
    # it: later sign-ins match on it, since an email address can change hands.
    oidc_subject: Mapped[str | None] = mapped_column(String(255), unique=True)
    # Their second factor (accounts.second_factor): the authenticator app's secret, the
    # last time step a code was used for (each code works once), and the hashes of the
    # recovery codes not used yet, space-separated.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    recovery_code_hashes: Mapped[str | None] = mapped_column(Text)
    # Set when the person's data was erased on request; the row stays, anonymised.
    erased_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    line_manager: Mapped[Person | None] = relationship(
        remote_side=[id], foreign_keys=[line_manager_id]
    )
    coach: Mapped[Person | None] = relationship(remote_side=[id], foreign_keys=[coach_id])

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sign-in to inactive people
        return self.active

    def get_id(self) -> str:
        """The session's key: a session from before the last epoch no longer signs anyone in."""
        return f"{self.id}:{self.session_epoch}"

    def end_sessions(self) -> None:
        self.session_epoch += 1

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    def deactivate(self) -> None:
        """Stop them signing in, now and from every open session; their history stays."""
        if not self.active:
            raise DomainError(f"{self.name} is already deactivated.")
        self.active = False
        self.password_token_hash = None
        self.password_token_expires_at = None
        self.end_sessions()

    def reactivate(self) -> None:
        if self.is_erased:
            raise DomainError("This person’s data was erased; the account cannot be used again.")
        if self.active:
            raise DomainError(f"{self.name} is already active.")
        self.active = True

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.split() else self.name

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)

    def check_password(self, password: str) -> bool:
        return password_matches(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<Person {self.id} {self.email}>"
