"""Configuration: the example file works as documented; mistakes are reported clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedback360 import create_app
from feedback360.config import ConfigError

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"


@pytest.fixture(autouse=True)
def instance(tmp_path, monkeypatch):
    monkeypatch.setenv("FEEDBACK360_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.delenv("FEEDBACK360_CONFIG", raising=False)
    return tmp_path / "instance"


def test_the_example_file_loads_without_complaint(monkeypatch, instance):
    monkeypatch.setenv("FEEDBACK360_CONFIG", str(EXAMPLE))
    app = create_app()
    assert app.config["MAIL_BACKEND"] == "outbox"
    assert app.config["SMTP_PORT"] == 25
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'feedback360.sqlite'}"
    assert app.config["MAIL_OUTBOX_DIR"] == str(instance / "outbox")
    assert app.config["PASSWORD_HASH_METHOD"] == "scrypt:32768:8:1"


def test_the_instance_folder_config_is_read_and_the_environment_wins(monkeypatch, instance):
    instance.mkdir(parents=True)
    (instance / "config.toml").write_text('SMTP_HOST = "mail.example.org"\nSMTP_PORT = 587\n')
    monkeypatch.setenv("FEEDBACK360_SMTP_PORT", "2525")
    app = create_app()
    assert app.config["SMTP_HOST"] == "mail.example.org"
    assert app.config["SMTP_PORT"] == 2525


def test_a_secret_key_is_made_once_and_kept(instance):
    first = create_app().config["SECRET_KEY"]
    assert len(first) == 64
    assert create_app().config["SECRET_KEY"] == first


def test_unknown_and_lower_case_keys_are_named(instance):
    instance.mkdir(parents=True)
    (instance / "config.toml").write_text('smtp_host = "x"\nSMTP_HOTS = "y"\n')
    with pytest.warns(UserWarning, match="unknown keys ignored: SMTP_HOTS, smtp_host"):
        create_app()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SMTP_PORT = = 1", "not valid TOML"),
        ('MAIL_BACKEND = "pigeon"', "MAIL_BACKEND must be"),
        ('PASSWORD_HASH_METHOD = "rot13"', "PASSWORD_HASH_METHOD cannot be used"),
    ],
)
def test_a_broken_config_file_is_refused_with_the_reason(instance, text, message):
    instance.mkdir(parents=True)
    (instance / "config.toml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        create_app()


def test_a_named_config_file_that_does_not_exist_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("FEEDBACK360_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match="does not exist"):
        create_app()
