"""The organisation summary page: scores by unit and staff type that single nobody out."""

from __future__ import annotations

import csv
import io
import re
from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback360.accounts.models import Person
from feedback360.admin.org_views import HEAT_SHADES, HEAT_TEXT
from feedback360.closing import close_cycle
from feedback360.cycles.models import Cycle
from feedback360.cycles.services import create_cycle
from feedback360.extensions import db
from feedback360.feedback import services as feedback
from feedback360.feedback.answers import Answers
from feedback360.frameworks.models import Framework
from feedback360.groups import PEER
from feedback360.paths import PACKAGE_DIR
from feedback360.reports.engine.crossed_groupings import linked_summaries
from feedback360.reports.engine.inputs import GROUP_CODE, CycleArrays, CycleSettings
from feedback360.reports.engine.organisation import ALL
from tests.conftest import nominate_colleague, page_text, sign_in

# Every rater of a unit gives every statement the same score, and so does each person
# about themselves: a "We will" statement's mean is that score.
TERRITORIAL, SPECIALIST, ACADEMY = "Territorial Policing", "Specialist Crime", "Leadership Academy"
OFFICER, STAFF = "Police officer", "Police staff"
PEOPLE = [  # unit, staff type, how many, raters' score, own score
    (TERRITORIAL, OFFICER, 3, 4, 5),
    (SPECIALIST, STAFF, 3, 3, 3),
    (ACADEMY, OFFICER, 1, 1, 2),  # one person: below the threshold of 3
]
SUBTRACTION = "Hidden so that fewer than 3 subjects or responses cannot be worked out"


def take_part(cycle: Cycle, person: Person, raters_score: int, own_score: int, raters: int = 3):
    """The person self-assesses and each of their raters answers every statement alike."""
    framework = cycle.framework
    request = feedback.start_request(cycle, person)
    feedback.submit_self_assessment(
        request, Answers({s.id: own_score for s in framework.statements})
    )
    for n in range(raters):
        nominate_colleague(request, f"Rater {n}", f"rater{n}.{person.id}@example.org", "peer")
    feedback.send_invitations(request)
    for invitation in request.invitations:
        answers = Answers({s.id: raters_score for s in framework.statements})
        feedback.submit_rater_response(invitation, answers)
    return request


def staff_member(name: str, unit: str, staff_type: str) -> Person:
    person = Person(
        name=name,
        email=f"{name.lower().replace(' ', '')}@example.org",
        business_unit=unit,
        staff_type=staff_type,
    )
    db.session.add(person)
    db.session.flush()
    return person


def run_cycle(framework: Framework, people, name: str = "Spring 2026", threshold: int = 3):
    """A cycle in which every listed person took part, now closed."""
    cycle = create_cycle(name, framework, threshold=threshold, min_raters=threshold)
    cycle.open()
    number = 0
    for unit, staff_type, count, raters_score, own_score in people:
        for _ in range(count):
            number += 1
            person = staff_member(f"Person {number}", unit, staff_type)
            take_part(cycle, person, raters_score, own_score, raters=threshold)
    close_cycle(cycle)
    db.session.commit()
    return cycle


@pytest.fixture
def closed_cycle(framework):
    return run_cycle(framework, PEOPLE)


def csv_rows(response) -> list[dict[str, str]]:
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


def first_we_will(rows: list[dict[str, str]]) -> dict[str, str]:
    return next(row for row in rows if row["Kind"] == "We will")


def test_staff_type_view_compares_officers_and_staff(admin, framework):
    # Both units have three officers and three staff, so no group is small in either view.
    mixed = [
        (unit, kind, 3, score, own)
        for unit in (TERRITORIAL, SPECIALIST)
        for kind, score, own in ((OFFICER, 4, 5), (STAFF, 3, 3))
    ]
    cycle = run_cycle(framework, mixed)
    page = admin.get(f"/admin/cycles/{cycle.id}/organisation?by=staff_type")
    assert page.status_code == 200
    text = page_text(page.text)
    assert "What the numbers are" in text
    assert "Others is what colleagues said" in text

    rows = csv_rows(admin.get(f"/admin/cycles/{cycle.id}/organisation.csv?by=staff_type"))
    statement = first_we_will(rows)
    assert statement[f"{OFFICER}: others"] == "4.00"
    assert statement[f"{STAFF}: others"] == "3.00"
    assert statement["All: others"] == "3.50"
    assert statement[f"{OFFICER}: self"] == "5.00"
    assert statement[f"{STAFF}: self"] == "3.00"
    assert statement["All: self"] == "4.00"
    by_unit = first_we_will(csv_rows(admin.get(f"/admin/cycles/{cycle.id}/organisation.csv")))
    assert by_unit[f"{TERRITORIAL}: others"] == by_unit[f"{SPECIALIST}: others"] == "3.50"
    # The same figures on the page, as a table with counts.
    table = page_text(
        admin.get(f"/admin/cycles/{cycle.id}/organisation?by=staff_type&show=table").text
    )
    assert "4.00 (6 people, 18 responses)" in table


def test_a_unit_below_the_threshold_is_hidden_and_cannot_be_worked_out(admin, closed_cycle):
    page = page_text(admin.get(f"/admin/cycles/{closed_cycle.id}/organisation").text)
    assert "Hidden: fewer than 3 subjects" in page
    # The large units are hidden too, by unit: together they would give the Academy away.
    assert f"Nothing can be shown for {ACADEMY}, {SPECIALIST} or {TERRITORIAL};" in page
    # Plain words for the administrator: no formulas, and "Everyone", never "All".
    assert "− x" not in page
    assert "Everyone" in page
    assert not re.search(r"\bAll\b", page)

    rows = csv_rows(admin.get(f"/admin/cycles/{closed_cycle.id}/organisation.csv"))
    assert len(rows) == 4 + 46  # the MPS values, then their statements
    for row in rows:
        for side in ("others", "self"):
            assert row[f"{ACADEMY}: {side}"].startswith("hidden: Fewer than 3 subjects")
            # With both large units shown, the total minus them would be the Academy's one
            # person: one of them is hidden too, and says why.
            large = [row[f"{unit}: {side}"] for unit in (TERRITORIAL, SPECIALIST)]
            assert sum(cell.startswith("hidden") for cell in large) >= 1, row
            assert not row[f"All: {side}"].startswith("hidden")
    assert any(SUBTRACTION in cell for row in rows for cell in row.values())
    assert SUBTRACTION in page


def test_a_summary_with_nothing_to_show_says_why_in_one_sentence(admin, framework):
    cycle = run_cycle(framework, [(TERRITORIAL, OFFICER, 2, 4, 4)])  # two people, k = 3

    html = admin.get(f"/admin/cycles/{cycle.id}/organisation").text

    assert (
        "Nothing can be shown for this cycle: to protect the people who gave feedback, each "
        "figure must rest on at least 3 people and 3 responses, and fewer than 3 people had "
        "feedback from their raters."
    ) in page_text(html)
    assert "Hidden" not in html  # not a page of hidden cells
    assert "<table" not in html
    assert "organisation.csv" not in html


def test_the_other_view_cannot_be_used_to_work_out_a_small_unit(admin, closed_cycle):
    """Officers are Territorial Policing's three and the Academy's one: showing officers
    beside Territorial Policing would give away the Academy officer's ratings."""
    by_unit = csv_rows(admin.get(f"/admin/cycles/{closed_cycle.id}/organisation.csv"))
    by_type = csv_rows(admin.get(f"/admin/cycles/{closed_cycle.id}/organisation.csv?by=staff_type"))
    for unit_row, type_row in zip(by_unit, by_type, strict=True):
        for side in ("others", "self"):
            territorial = unit_row[f"{TERRITORIAL}: {side}"]
            officers = type_row[f"{OFFICER}: {side}"]
            assert territorial.startswith("hidden") or officers.startswith("hidden")
            # Nor may "everyone" less "police staff" less Territorial Policing be worked out.
            staff = type_row[f"{STAFF}: {side}"]
            assert territorial.startswith("hidden") or staff.startswith("hidden")
    # Here Territorial Policing goes: then officers, staff and everyone reveal no one.
    page = page_text(admin.get(f"/admin/cycles/{closed_cycle.id}/organisation").text)
    assert "cannot be worked out by comparing it with the staff type view" in page
    assert first_we_will(by_type)[f"{OFFICER}: others"] == "3.25"
    # The Academy person's ratings (raters 1, self 2) appear nowhere as a figure.
    for rows in (by_unit, by_type):
        for row in rows:
            assert "1.00" not in row.values()
            assert "2.00" not in row.values()


def test_the_heat_map_prints_every_number_on_readable_shades_with_a_key(admin, closed_cycle):
    html = admin.get(f"/admin/cycles/{closed_cycle.id}/organisation?by=staff_type").text
    cells = [
        (HEAT_SHADES[int(level) - 1], score)
        for level, score in re.findall(r'<td class="heat heat-(\d)"><strong>([\d.]+)<', html)
    ]
    assert cells, "the heat map has no shaded cells"
    # "We will" statements, others: officers 39 / 12 (nine 4s, three 1s), staff 3, all 66 / 21.
    assert {score for _, score in cells} >= {"3.25", "3.00", "3.14"}
    shades = {shade for shade, _ in cells}
    assert len(shades) > 1
    assert shades <= set(HEAT_SHADES)
    text = page_text(html)
    assert "Key to the shading" in text
    assert "4.2 to 5.0" in text
    assert f'<th scope="colgroup" colspan="2">{OFFICER}</th>' in html


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("shade", HEAT_SHADES)
def test_every_shade_keeps_the_number_readable(shade):
    assert contrast(HEAT_TEXT, shade) >= 4.5


def test_the_stylesheet_shades_are_the_heat_map_shades():
    # The page names its shades by class (the CSP refuses style attributes).
    css = (PACKAGE_DIR / "static" / "style.css").read_text()
    for level, shade in enumerate(HEAT_SHADES, 1):
        assert f".heat-{level} {{ background: {shade}; }}" in css
    assert f".heat {{ color: {HEAT_TEXT}; }}" in css


def test_csv_cells_cannot_run_as_spreadsheet_formulas(admin, framework):
    people = [('=HYPERLINK("http://evil.example")', "+cmd|' /C calc'!A0", 3, 4, 4)]
    cycle = run_cycle(framework, people)
    response = admin.get(f"/admin/cycles/{cycle.id}/organisation.csv?by=business_unit")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    cells = [
        cell for row in csv.reader(io.StringIO(response.data.decode("utf-8-sig"))) for cell in row
    ]
    assert '\'=HYPERLINK("http://evil.example"): others' in cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    staff_cells = admin.get(f"/admin/cycles/{cycle.id}/organisation.csv?by=staff_type").text
    assert "\"'+cmd|' /C calc'!A0: others\"" in staff_cells


def test_an_open_cycle_has_no_summary_yet(admin, open_cycle):
    cycle = open_cycle()
    page = admin.get(f"/admin/cycles/{cycle.id}/organisation")
    assert "ready once it closes" in page_text(page.text)
    assert admin.get(f"/admin/cycles/{cycle.id}/organisation.csv").status_code == 404


def test_the_list_links_each_closed_cycle(admin, closed_cycle, open_cycle):
    open_cycle("Autumn 2026")
    text = admin.get("/admin/organisation").text
    assert f'href="/admin/cycles/{closed_cycle.id}/organisation"' in text
    assert "Autumn 2026" not in text


@pytest.mark.parametrize(
    "path",
    [
        "/admin/cycles/999/organisation",
        "/admin/cycles/999/organisation.csv",
        "/admin/cycles/{id}/organisation?by=shoe_size",
        "/admin/cycles/{id}/organisation.csv?by=shoe_size",
        "/admin/cycles/{id}/organisation?show=pie",
    ],
)
def test_wrong_addresses_are_not_found(admin, closed_cycle, path):
    assert admin.get(path.format(id=closed_cycle.id)).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/admin/organisation",
        "/admin/cycles/{id}/organisation",
        "/admin/cycles/{id}/organisation.csv",
    ],
)
def test_only_administrators_see_the_summary(app, make_person, closed_cycle, path):
    make_person("Sam Taylor", "sam@example.org")
    staff = app.test_client()
    assert staff.get(path.format(id=closed_cycle.id)).status_code == 302  # to sign in
    sign_in(staff, "sam@example.org")
    assert staff.get(path.format(id=closed_cycle.id)).status_code == 403


@st.composite
def organisations(draw):
    """People spread over up to three units and three staff types, with 1–4 raters each."""
    people = draw(
        st.lists(
            st.tuples(st.sampled_from("ABC"), st.sampled_from("XYZ"), st.integers(1, 4)),
            min_size=1,
            max_size=14,
        )
    )
    return people


@settings(max_examples=150, deadline=None)
@given(organisations(), st.integers(2, 3))
def test_no_pair_of_views_reveals_a_small_group(people, k):
    """Brute force: no set of unit × staff type intersections smaller than k is a sum and
    difference of the figures the two views show."""
    subject = np.repeat(np.arange(len(people)), [raters for _, _, raters in people])
    arrays = CycleArrays(
        ratings=np.full((len(subject), 1), 3.0),
        subject=subject,
        group=np.full(len(subject), GROUP_CODE[PEER], dtype=np.int8),
        statement_value=np.array([0]),
        statement_positive=np.array([True]),
        n_subjects=len(people),
        n_values=1,
    )
    units, types = [unit for unit, _, _ in people], [kind for _, kind, _ in people]
    by_unit, by_type = linked_summaries(arrays, units, types, CycleSettings(k=k))
    atoms = sorted({(unit, kind) for unit, kind, _ in people})
    weight = {
        atom: (
            sum(1 for u, t, _ in people if (u, t) == atom),
            sum(r for u, t, r in people if (u, t) == atom),
        )
        for atom in atoms
    }
    cells = (by_unit.statements[0], by_type.statements[0])
    published = [
        [float(atom[side] == name or name == ALL) for atom in atoms]
        for side, row in enumerate(cells)
        for name, cell in row.items()
        if cell.mean is not None
    ]
    rank = np.linalg.matrix_rank(np.array(published)) if published else 0
    for size in range(1, len(atoms) + 1):
        for chosen in combinations(range(len(atoms)), size):
            subjects = sum(weight[atoms[i]][0] for i in chosen)
            responses = sum(weight[atoms[i]][1] for i in chosen)
            if subjects >= k and responses >= k:
                continue
            indicator = [float(i in chosen) for i in range(len(atoms))]
            together = np.array([*published, indicator])
            assert np.linalg.matrix_rank(together) > rank, [atoms[i] for i in chosen]
