"""The migrations build exactly the schema the models describe, and take it down again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import inspect

from feedback360.extensions import db
from tests.conftest import DATABASES, running_app


@pytest.fixture(params=DATABASES)
def empty_app(request, tmp_path, monkeypatch) -> Iterator[Flask]:
    """An app on a database with no tables at all, as a new installation starts."""
    with running_app(tmp_path, monkeypatch, tables=False, database=request.param) as app:
        yield app


def upgrade(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output


def schema_drift() -> list:
    with db.engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), db.metadata)


def test_upgrading_an_empty_database_gives_exactly_the_models_schema(empty_app):
    assert inspect(db.engine).get_table_names() == []

    upgrade(empty_app)

    assert schema_drift() == []
    assert "alembic_version" in inspect(db.engine).get_table_names()


def test_downgrading_to_base_leaves_only_alembic_version(empty_app):
    upgrade(empty_app)

    result = empty_app.test_cli_runner().invoke(args=["db", "downgrade", "base"])

    assert result.exit_code == 0, result.output
    assert inspect(db.engine).get_table_names() == ["alembic_version"]


def test_upgrading_twice_changes_nothing(empty_app):
    upgrade(empty_app)

    upgrade(empty_app)

    assert schema_drift() == []
