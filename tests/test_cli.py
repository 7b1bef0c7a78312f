"""The `feedback360` command as an administrator uses it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func

from feedback360.accounts.models import Person
from feedback360.cycles.models import Cycle
from feedback360.extensions import db
from feedback360.feedback.models import Response
from feedback360.feedback.services import start_request
from feedback360.frameworks.models import Framework
from feedback360.reports.models import Report
from tests.conftest import sign_in

JO_PASSWORD = "a long password"
COMMANDS = [
    ["people", "add"],
    ["framework", "load"],
    ["cycle", "create"],
    ["cycle", "open"],
    ["cycle", "close"],
    ["cycle", "release"],
    ["reports", "build"],
    ["demo"],
]


def count(model: type) -> int:
    return db.session.scalar(db.select(func.count()).select_from(model))


def cycle_named(name: str) -> Cycle:
    db.session.expire_all()
    return db.session.execute(db.select(Cycle).filter_by(name=name)).scalar_one()


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_explains_itself(runner, command):
    result = runner.invoke(args=[*command, "--help"])

    assert result.exit_code == 0, result.output
    usage, description, *_ = result.output.split("\n\n")
    assert usage.startswith("Usage: ")
    assert " ".join(command) in usage
    assert description.strip()
    assert not description.lstrip().startswith("Options:")


def add_jo(runner, email: str = "jo@example.org", password: str = JO_PASSWORD):  # type: ignore[no-untyped-def]
    return runner.invoke(
        args=["people", "add", "--name", "Jo Bloggs", "--email", email, "--password", password]
    )


def test_a_person_added_on_the_command_line_can_sign_in(runner, client):
    result = add_jo(runner)

    assert result.exit_code == 0, result.output
    assert "Added Jo Bloggs <jo@example.org>." in result.output
    response = sign_in(client, "jo@example.org", JO_PASSWORD)
    assert response.status_code == 302
    assert "Your feedback" in client.get(response.location).text


def test_people_add_asks_for_the_password_when_not_given(runner, client):
    result = runner.invoke(
        args=["people", "add", "--name", "Jo Bloggs", "--email", "jo@example.org"],
        input=f"{JO_PASSWORD}\n{JO_PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    assert sign_in(client, "jo@example.org", JO_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("email", "password", "reason"),
    [
        ("JO@example.org", "another long one", "jo@example.org is already registered."),
        ("max@example.org", "short", "Use between 12 and 200 characters."),
        ("not-an-email", JO_PASSWORD, "“not-an-email” is not a valid email address"),
    ],
    ids=["duplicate-email", "short-password", "invalid-email"],
)
def test_people_add_refuses_bad_input_and_adds_no_one(runner, email, password, reason):
    assert add_jo(runner).exit_code == 0

    result = add_jo(runner, email, password)

    assert result.exit_code == 1
    assert f"Error: {reason}" in result.output
    assert count(Person) == 1


def test_a_cycle_is_created_opened_and_closed_by_name_or_id(runner, framework):
    result = runner.invoke(args=["cycle", "create", "Spring 2026"])
    assert result.exit_code == 0, result.output
    assert "(draft)" in result.output
    cycle_id = cycle_named("Spring 2026").id

    result = runner.invoke(args=["cycle", "open", "Spring 2026"])
    assert result.exit_code == 0, result.output
    assert f"Cycle {cycle_id} “Spring 2026” is now open." in result.output
    assert cycle_named("Spring 2026").status == "open"

    result = runner.invoke(args=["cycle", "close", str(cycle_id)])
    assert result.exit_code == 0, result.output
    assert cycle_named("Spring 2026").status == "closed"


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["close", "Draft"], "Cycle “Draft” is draft; only an open cycle can close."),
        (["release", "Draft"], "reports are released after it closes"),
        (["open", "Nowhere"], "No cycle has the id or name “Nowhere”."),
    ],
    ids=["close-a-draft", "release-a-draft", "unknown-cycle"],
)
def test_an_invalid_move_is_refused_and_changes_nothing(runner, framework, args, reason):
    assert runner.invoke(args=["cycle", "create", "Draft"]).exit_code == 0

    result = runner.invoke(args=["cycle", *args])

    assert result.exit_code == 1
    assert reason in result.output
    assert cycle_named("Draft").status == "draft"


def test_an_anonymity_threshold_below_two_is_refused(runner, framework):
    result = runner.invoke(args=["cycle", "create", "Weak", "--threshold", "1"])

    assert result.exit_code == 1
    assert "The anonymity threshold can never be below 2." in result.output
    assert count(Cycle) == 0


def test_reports_build_writes_one_pdf_per_person(runner, make_person, open_cycle, tmp_path):
    cycle = open_cycle("Spring 2026")
    for name in ("Sam Taylor", "Jo Bloggs"):
        start_request(cycle, make_person(name))
    db.session.commit()
    out = tmp_path / "pdfs"

    refused = runner.invoke(args=["reports", "build", "Spring 2026", "--out", str(out)])
    assert refused.exit_code == 1
    assert "can be built only while it is closed" in refused.output
    assert not out.exists()

    assert runner.invoke(args=["cycle", "close", "Spring 2026"]).exit_code == 0
    result = runner.invoke(args=["reports", "build", "Spring 2026", "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert "Built 2 reports." in result.output
    files = sorted(out.iterdir())
    assert [f.name for f in files] == [
        "jo-bloggs-spring-2026-feedback-report.pdf",
        "sam-taylor-spring-2026-feedback-report.pdf",
    ]
    assert all(f.read_bytes().startswith(b"%PDF") for f in files)


def test_demo_runs_once_and_sam_can_download_the_report(runner, client):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "Demo data created." in first.output
    counts = [count(model) for model in (Person, Cycle, Framework, Response, Report)]

    second = runner.invoke(args=["demo"])

    assert second.exit_code == 0, second.output
    assert "Demo data is already there." in second.output
    assert [count(model) for model in (Person, Cycle, Framework, Response, Report)] == counts

    assert sign_in(client, "sam.taylor@example.org", "demo-password").status_code == 302
    home = client.get("/").text
    assert "Read your report" in home
    pdf_link = re.search(r'href="(/reports/\d+/report\.pdf)"', home)
    assert pdf_link, home
    download = client.get(pdf_link.group(1))
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    assert download.data.startswith(b"%PDF")


def test_the_installed_console_script_lists_every_command(tmp_path):
    script = Path(sys.executable).parent / "feedback360"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBACK360_")}
    env["FEEDBACK360_INSTANCE_PATH"] = str(tmp_path / "instance")

    result = subprocess.run(  # noqa: S603 (our own script, fixed arguments)
        [str(script), "--help"], env=env, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    listed = set(re.findall(r"^  (\S+)", result.stdout.split("Commands:")[1], re.MULTILINE))
    assert {"run", "db", "demo", "framework", "people", "cycle", "reports"} <= listed
