"""An installed copy (not only a checkout) carries its templates, migrations and framework."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_ships_templates_migrations_and_the_framework(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
    )
    wheel = next(tmp_path.glob("feedback360-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for template in ROOT.glob("templates/**/*.html"):
        assert f"feedback360/{template.relative_to(ROOT).as_posix()}" in names
    for migration in ROOT.glob("migrations/versions/*.py"):
        assert f"feedback360/{migration.relative_to(ROOT).as_posix()}" in names
    assert "feedback360/migrations/env.py" in names
    assert "feedback360/frameworks/data/mps-2006.toml" in names
    assert "feedback360/static/style.css" in names
