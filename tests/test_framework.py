"""The shipped framework is the seed word for word; framework files load as frozen versions."""

# The seed below is quoted exactly as published, so some of its lines are long.
# ruff: noqa: E501

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func

from feedback360.extensions import db
from feedback360.frameworks.models import Framework
from feedback360.frameworks.services import bundled_framework

# The independent oracle: "Together", stage "Finalisation of behaviours", as published.
SEED_PREAMBLE = "Working together with all our citizens, all our partners and all our colleagues:"
SEED = """\
We will be proud to deliver quality policing. There is no greater priority.
Put the needs of individuals and communities first. Be helpful and attentive. Make the best use of our resources.

We will:

  • understand and respond to the needs of the people and communities we serve;
  • balance the requirement to meet targets with the public’s expectation of quality service in every situation;
  • use the resources we have available, including our own time, in the most productive way;
  • make time to get the little things right;
  • suggest improvements in services that will make a difference; and
  • lead by example.

We will not:

  • forget that quality is a vital part of our performance;
  • overlook the importance of routine work; or
  • forget that we are here to serve.

We will build trust by listening and responding.
Be accessible and approachable. Build relationships. Encourage others to challenge and get involved.

We will:

  • think about how our actions affect others;
  • provide opportunities for others to get involved;
  • be ‘visible’ so we are seen to be accessible;
  • make sure all staff feel comfortable in expressing themselves without fear;
  • encourage constructive feedback;
  • communicate (face-to-face where possible);
  • explain what is happening and use practical examples that everyone can understand;
  • give consistent messages – our actions must match our words; and
  • act with integrity - be honest and tell it how it is.

We will not:

  • see time spent building relationships with others as pointless; or
  • use behaviour which others could interpret as intimidating, bullying or lacking in integrity.

We will respect and support each other and work as a team.
Work to bring people together. Trust and value the contribution everyone makes.

We will:

  • work across boundaries - bringing different groups together;
  • challenge inappropriate behaviour and actions consistently and fairly;
  • make sure that everyone knows what is expected of them;
  • trust our colleagues to do their jobs properly;
  • support each other when making difficult decisions;
  • acknowledge and value each other’s contribution;
  • respect difference;
  • respect the needs of others; and
  • treat our colleagues as we want them to treat the public and our partners.

We will not:

  • see self-interest as more important than working together;
  • put our business group or unit first, and the MPS second;
  • ignore inappropriate behaviour or poor performance;
  • judge a person’s contribution only on the basis of seniority or status; or
  • value police officers and police staff differently.

We will learn from experience and find ways to be even better.
Be prepared to do things differently. Challenge how we work, share experiences and ideas.

We will:

  • allow staff the freedom to take considered risks;
  • take time to learn from our mistakes;
  • encourage creative thinking about new ways of doing things;
  • question why we do some things and be open to change;
  • share ideas;
  • capture what works well and what does not and change as a result;
  • invest time and resources in developing future talent; and
  • take personal responsibility for change and not just look to others to make things different.

We will not:

  • rush to judge when mistakes are made;
  • react only to symptoms and not deal with the causes behind them;
  • be reluctant to take personal responsibility; or
  • withhold information that could help others.
"""

TINY = """\
key = "tiny"
name = "A tiny framework"
scale = ["No", "Yes"]

[[values]]
title = "We will be kind."
summary = "Be kind to everyone."
we_will = ["listen;", "help."]
we_will_not = ["shout."]
"""


def parse_seed(text: str) -> list[dict]:
    """Values as the seed lays them out: title line, summary line, then the two bullet lists."""
    values: list[dict] = []
    bullets: list[str] = []
    for line in (line.strip() for line in text.splitlines()):
        if not line:
            continue
        if line == "We will:":
            bullets = values[-1]["we_will"]
        elif line == "We will not:":
            bullets = values[-1]["we_will_not"]
        elif line.startswith("• "):
            bullets.append(line.removeprefix("• "))
        elif values and values[-1]["summary"] is None:
            values[-1]["summary"] = line
        else:
            values.append({"title": line, "summary": None, "we_will": [], "we_will_not": []})
    return values


def stored(framework: Framework) -> list[dict]:
    """The framework as the database holds it, in the shape of parse_seed()."""
    return [
        {
            "title": value.title,
            "summary": value.summary,
            "we_will": [s.text for s in value.statements if s.positive],
            "we_will_not": [s.text for s in value.statements if not s.positive],
        }
        for value in framework.values
    ]


def frameworks() -> list[Framework]:
    return list(db.session.scalars(db.select(Framework).order_by(Framework.id)))


def count_frameworks() -> int:
    return db.session.scalar(db.select(func.count()).select_from(Framework))


def load(runner, path: Path):  # type: ignore[no-untyped-def]
    return runner.invoke(args=["framework", "load", str(path)])


def test_the_shipped_framework_holds_the_seed_word_for_word(app, runner):
    seed = parse_seed(SEED)
    assert len(seed) == 4
    assert sum(len(v["we_will"]) for v in seed) == 32
    assert sum(len(v["we_will_not"]) for v in seed) == 14

    # An administrator loads the framework that ships with the tool.
    result = load(runner, bundled_framework("mps-2006"))
    assert result.exit_code == 0, result.output
    assert "version 1: 4 values, 32 “We will” and 14 “We will not” statements" in result.output

    (framework,) = frameworks()
    assert framework.preamble == SEED_PREAMBLE
    assert framework.scale == ["Never", "Rarely", "Sometimes", "Often", "Always"]
    assert stored(framework) == seed
    # Punctuation survives exactly, curly quotes and dashes included.
    texts = [statement.text for statement in framework.statements]
    assert "be ‘visible’ so we are seen to be accessible;" in texts
    assert "give consistent messages – our actions must match our words; and" in texts
    assert "acknowledge and value each other’s contribution;" in texts


def test_loading_the_same_file_twice_keeps_one_version(app, runner):
    assert load(runner, bundled_framework("mps-2006")).exit_code == 0

    again = load(runner, bundled_framework("mps-2006"))

    assert again.exit_code == 0, again.output
    assert "unchanged: it is already version 1" in again.output
    assert [f.version for f in frameworks()] == [1]


def test_a_changed_file_becomes_a_new_version_and_the_old_one_stays(app, runner, tmp_path):
    shipped = bundled_framework("mps-2006")
    assert load(runner, shipped).exit_code == 0
    changed = tmp_path / "mps-2006.toml"
    changed.write_text(
        shipped.read_text(encoding="utf-8").replace("share ideas;", "share ideas openly;"),
        encoding="utf-8",
    )

    result = load(runner, changed)

    assert result.exit_code == 0, result.output
    assert "as version 2" in result.output
    db.session.expire_all()
    first, second = frameworks()
    assert (first.version, second.version) == (1, 2)
    assert stored(first) == parse_seed(SEED)
    assert "share ideas openly;" in [s.text for s in second.statements]
    assert "share ideas openly;" not in [s.text for s in first.statements]


def test_a_copy_that_differs_only_in_comments_is_the_same_version(app, runner, tmp_path):
    shipped = bundled_framework("mps-2006")
    assert load(runner, shipped).exit_code == 0
    commented = tmp_path / "mps-2006.toml"
    commented.write_text("# Our copy.\n" + shipped.read_text(encoding="utf-8"), encoding="utf-8")

    assert "already version 1" in load(runner, commented).output
    assert count_frameworks() == 1


def test_a_valid_small_file_loads(app, runner, tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY, encoding="utf-8")

    result = load(runner, path)

    assert result.exit_code == 0, result.output
    assert "1 values, 2 “We will” and 1 “We will not” statements" in result.output


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param('key = "tiny\n', "not valid TOML: Illegal character", id="invalid-toml"),
        pytest.param(TINY.split("[[values]]")[0], "no [[values]] given", id="no-values"),
        pytest.param(
            TINY.replace('we_will = ["listen;", "help."]\n', ""),
            "value 1 'we_will' must list at least one statement",
            id="no-we-will",
        ),
        pytest.param(
            TINY.replace('["listen;", "help."]', "[]"),
            "value 1 'we_will' must list at least one statement",
            id="empty-we-will",
        ),
        pytest.param(
            TINY.replace('"help."', '"  "'),
            "value 1 'we_will' item 2 is missing or empty",
            id="empty-statement",
        ),
        pytest.param(
            TINY.replace('["shout."]', '["listen;"]'),
            "statement given twice: “listen;”",
            id="duplicate-statement",
        ),
        pytest.param('colour = "blue"\n' + TINY, "unknown key: colour", id="unknown-top-level-key"),
        pytest.param(
            TINY.replace("we_will_not", "we_wont"),
            "value 1: unknown key: we_wont",
            id="unknown-value-key",
        ),
        pytest.param(
            TINY.replace('["No", "Yes"]', '["Yes"]'),
            "'scale' must list between 2 and 9 point labels",
            id="one-point-scale",
        ),
    ],
)
def test_a_broken_file_is_refused_with_the_reason_and_nothing_is_stored(
    app, runner, tmp_path, text, reason
):
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")

    result = load(runner, path)

    assert result.exit_code == 1
    assert "Error:" in result.output
    assert reason in result.output
    assert str(path) in result.output
    assert count_frameworks() == 0


def test_a_missing_file_is_refused(app, runner, tmp_path):
    result = load(runner, tmp_path / "nowhere.toml")

    assert result.exit_code == 1
    assert "nowhere.toml: no such file" in result.output
    assert count_frameworks() == 0
