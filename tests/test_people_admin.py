"""The people pages: list and search, coaches, roles, deactivation, and who may use them."""

from __future__ import annotations

import pytest

from feedback360.accounts.models import Person
from feedback360.accounts.services import add_person
from feedback360.audit.models import AuditEntry
from feedback360.extensions import db
from tests.conftest import csrf_token, page_text, sign_in, submit_form


@pytest.fixture
def staff(make_person):
    """A few people in two business units; Cora is a coach."""
    people = {
        "sam": make_person("Sam Taylor", "sam@example.org"),
        "kim": make_person("Kim Lee", "kim@example.org"),
        "cora": make_person("Cora Lane", "cora@example.org", is_coach=True),
        "pat": make_person("Pat_Underscore", "pat@example.org"),
    }
    for key, unit in (("sam", "Camden"), ("kim", "Westminster"), ("cora", "Academy")):
        people[key].business_unit = unit
    db.session.commit()
    return {key: person.id for key, person in people.items()}


def fresh(person_id: int) -> Person:
    db.session.expire_all()
    return db.session.get_one(Person, person_id)


def post(client, person_id: int, action: str, data: dict | None = None):  # type: ignore[no-untyped-def]
    page = f"/admin/people/{person_id}"
    return submit_form(client, page, data or {}, action=f"{page}/{action}")


def audit_actions() -> list[tuple[str, str]]:
    entries = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id))
    return [(entry.action, entry.target) for entry in entries]


def test_the_list_searches_by_name_or_email_and_filters_by_unit(admin, staff):
    everyone = page_text(admin.get("/admin/people").text)
    assert "5 people" in everyone
    assert "Sam Taylor" in everyone
    assert "Kim Lee" in everyone

    by_name = page_text(admin.get("/admin/people?q=taylor").text)
    assert "Sam Taylor" in by_name
    assert "Kim Lee" not in by_name
    by_email = page_text(admin.get("/admin/people?q=KIM@").text)
    assert "Kim Lee" in by_email
    assert "Sam Taylor" not in by_email
    literal = page_text(admin.get("/admin/people?q=_").text)
    assert "Pat_Underscore" in literal
    assert "Sam Taylor" not in literal
    in_unit = page_text(admin.get("/admin/people?unit=Westminster").text)
    assert "Kim Lee" in in_unit
    assert "Sam Taylor" not in in_unit
    assert "Nobody matches that search." in admin.get("/admin/people?q=zzz").text


@pytest.mark.parametrize(
    ("asked_for", "shown"),
    [
        ("2", "Page 2 of 2"),
        ("3", "Page 2 of 2"),
        ("99999999999999999999", "Page 2 of 2"),  # more than any database can count to
        ("9" * 400, "Page 2 of 2"),
        ("0", "Page 1 of 2"),
        ("-99999999999999999999", "Page 1 of 2"),
        ("two", "Page 1 of 2"),
    ],
)
def test_any_page_number_shows_a_page_of_people(admin, asked_for, shown):
    for n in range(60):  # with Ada, 61 people: two pages of 50
        add_person(f"Person {n:02}", f"person{n}@example.org")
    db.session.commit()
    response = admin.get(f"/admin/people?page={asked_for}")
    assert response.status_code == 200
    text = page_text(response.text)
    assert shown in text
    assert ("Person 59" in text) == shown.startswith("Page 2")


def test_any_page_number_shows_a_page_of_the_audit_log(admin):
    for page in ("99999999999999999999", "-1", "two"):
        assert admin.get(f"/admin/audit?page={page}").status_code == 200


def test_a_persons_page_shows_their_details(admin, staff):
    sam, kim, cora = (db.session.get_one(Person, staff[key]) for key in ("sam", "kim", "cora"))
    sam.line_manager, sam.coach = kim, cora
    db.session.commit()

    text = page_text(admin.get(f"/admin/people/{staff['sam']}").text)

    assert "sam@example.org" in text
    assert "Business unit Camden" in text
    assert "Line manager Kim Lee" in text
    assert "Coach Cora Lane" in text
    assert "State Active" in text
    assert admin.get("/admin/people/9999").status_code == 404


def test_a_coach_is_assigned_from_the_coaches_only(admin, staff):
    page = admin.get(f"/admin/people/{staff['sam']}").text
    assert "Cora Lane" in page
    assert f'value="{staff["kim"]}"' not in page  # Kim is not a coach

    post(admin, staff["sam"], "coach", {"coach": str(staff["cora"])})
    assert fresh(staff["sam"]).coach_id == staff["cora"]

    refused = post(admin, staff["sam"], "coach", {"coach": str(staff["kim"])})
    assert refused.status_code == 400
    assert "Not a valid choice" in page_text(refused.text)
    assert fresh(staff["sam"]).coach_id == staff["cora"]

    post(admin, staff["sam"], "coach", {"coach": ""})
    assert fresh(staff["sam"]).coach_id is None
    assert ("person.coach", f"person {staff['sam']}") in audit_actions()


def test_roles_change_and_a_former_coach_loses_their_coachees(admin, staff):
    post(admin, staff["sam"], "coach", {"coach": str(staff["cora"])})

    post(admin, staff["kim"], "roles", {"admin": "y", "coach": "y"})
    post(admin, staff["cora"], "roles", {})

    kim, cora = fresh(staff["kim"]), fresh(staff["cora"])
    assert (kim.is_admin, kim.is_coach) == (True, True)
    assert (cora.is_admin, cora.is_coach) == (False, False)
    assert fresh(staff["sam"]).coach_id is None
    assert ("person.roles", f"person {staff['cora']}") in audit_actions()


def test_an_administrator_cannot_remove_their_own_admin_role_or_deactivate_themselves(admin):
    ada = db.session.scalars(db.select(Person).filter_by(email="ada@example.org")).one()

    response = post(admin, ada.id, "roles", {})
    assert "You cannot remove your own administrator role." in page_text(
        admin.get(response.location).text
    )
    response = post(admin, ada.id, "deactivate")
    assert "You cannot deactivate yourself." in page_text(admin.get(response.location).text)
    ada = fresh(ada.id)
    assert ada.is_admin
    assert ada.active


def test_deactivating_ends_their_session_and_reactivating_lets_them_back(app, admin, staff):
    sam_browser = app.test_client()
    sign_in(sam_browser, "sam@example.org")
    assert sam_browser.get("/").status_code == 200

    response = post(admin, staff["sam"], "deactivate")

    assert "Deactivated: they can no longer sign in." in page_text(
        admin.get(response.location).text
    )
    assert sam_browser.get("/").location.startswith("/sign-in")
    assert "do not match" in sign_in(app.test_client(), "sam@example.org").text

    post(admin, staff["sam"], "reactivate")
    assert sign_in(app.test_client(), "sam@example.org").location == "/"
    assert sam_browser.get("/").location.startswith("/sign-in")  # the old session stays ended
    actions = audit_actions()
    assert ("person.deactivate", f"person {staff['sam']}") in actions
    assert ("person.reactivate", f"person {staff['sam']}") in actions


PAGES = ["/admin/people", "/admin/people/import", "/admin/people/{id}", "/admin/people/{id}/erase"]
ACTIONS = ["coach", "roles", "deactivate", "reactivate", "password-link", "erase"]


@pytest.mark.parametrize("role", [{}, {"is_coach": True}])
def test_staff_and_coaches_are_refused(app, make_person, role):
    target = make_person("Sam Taylor", "sam@example.org")
    make_person("Nosy Parker", "nosy@example.org", **role)
    browser = app.test_client()
    sign_in(browser, "nosy@example.org")
    token = csrf_token(browser.get("/").text)

    for page in PAGES:
        assert browser.get(page.format(id=target.id)).status_code == 403, page
    for action in ACTIONS:
        path = f"/admin/people/{target.id}/{action}"
        assert browser.post(path, data={"csrf_token": token}).status_code == 403, path
    assert browser.post("/admin/people/import", data={"csrf_token": token}).status_code == 403
    assert fresh(target.id).active


def test_anonymous_visitors_are_sent_to_sign_in(client, make_person):
    target = make_person("Sam Taylor", "sam@example.org")
    token = csrf_token(client.get("/sign-in").text)

    for page in PAGES:
        assert client.get(page.format(id=target.id)).location.startswith("/sign-in"), page
    for action in ACTIONS:
        path = f"/admin/people/{target.id}/{action}"
        assert client.post(path, data={"csrf_token": token}).location.startswith("/sign-in")


def test_the_admin_menu_links_to_the_people_pages(admin):
    assert 'href="/admin/people"' in admin.get("/admin/").text
