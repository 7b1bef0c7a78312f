"""Invitations reach raters: as files in the outbox by default, through SMTP when configured."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from feedback360.extensions import db
from feedback360.feedback import mails
from feedback360.feedback.services import start_request
from feedback360.reports import mails as report_mails
from tests.conftest import nominate_and_send, outbox_messages, running_app, sign_in, submit_form

RATERS = [(f"Peer {n}", f"peer{n}@example.org") for n in range(1, 6)]
LINK = re.compile(r"http://localhost/r/[A-Za-z0-9_\-]+")


def invite_five_peers(client: FlaskClient, cycle_id: int) -> None:
    """Sam signs in, asks for feedback, nominates five peers and sends the invitations."""
    assert sign_in(client, "sam@example.org").status_code == 302
    request_page = submit_form(client, "/", {}, action=f"/cycles/{cycle_id}/request").location
    response = nominate_and_send(
        client, request_page, [(name, email, "peer") for name, email in RATERS]
    )
    assert response.status_code == 302
    assert "5 invitations sent." in client.get(request_page).text


def part_of(message: Message, content_type: str) -> str:
    """The decoded text of the message's part of this type (text/plain or text/html)."""
    (part,) = [p for p in message.walk() if p.get_content_type() == content_type]
    return part.get_payload(decode=True).decode()  # type: ignore[union-attr]


def body_of(message: Message) -> str:
    return part_of(message, "text/plain")


def links_in(message: Message) -> tuple[str, str]:
    """The personal link in the plain-text part and the one the HTML part's button opens."""
    (text_link,) = LINK.findall(body_of(message))
    html_links = set(re.findall(r'<a href="([^"]+)"', part_of(message, "text/html")))
    assert len(html_links) == 1, html_links
    return text_link, html_links.pop()


def test_invitations_land_in_the_outbox_folder_by_default(
    app, client, make_person, open_cycle, caplog
):
    make_person("Sam Taylor", "sam@example.org")
    cycle = open_cycle()

    with caplog.at_level(logging.WARNING, logger="feedback360.mail"):
        invite_five_peers(client, cycle.id)

    outbox = Path(app.config["MAIL_OUTBOX_DIR"])
    assert len(list(outbox.glob("*.eml"))) == 5
    messages = outbox_messages(app)
    assert sorted(m["To"] for m in messages) == [email for _, email in RATERS]
    for message in messages:
        assert message["Subject"] == "Sam Taylor asks for your feedback"
        assert message["From"] == app.config["MAIL_FROM"]
        body = body_of(message)
        assert "Sam Taylor has asked you for feedback" in body
        # The log says where each message was saved, never its personal link.
        (link,) = LINK.findall(body)
        token = link.rsplit("/", 1)[-1]
        assert any(message["To"] in line and ".eml" in line for line in caplog.messages)
        assert not any(token in line for line in caplog.messages), caplog.messages


class TestSmtp:
    """Configured for SMTP, the same invitations go to a real mail server instead."""

    @pytest.fixture
    def app(self, tmp_path, monkeypatch, smtp_server) -> Iterator[Flask]:
        with running_app(
            tmp_path,
            monkeypatch,
            MAIL_BACKEND="smtp",
            SMTP_HOST=smtp_server.hostname,
            SMTP_PORT=smtp_server.port,
        ) as app:
            yield app

    def test_each_rater_gets_their_own_link_from_the_smtp_server(
        self, app, client, make_person, open_cycle, smtp_server
    ):
        make_person("Sam Taylor", "sam@example.org")
        cycle = open_cycle()

        invite_five_peers(client, cycle.id)

        envelopes = smtp_server.handler.envelopes
        assert sorted(e.rcpt_tos[0] for e in envelopes) == [email for _, email in RATERS]
        assert all(len(e.rcpt_tos) == 1 for e in envelopes)
        links = set()
        for envelope in envelopes:
            message = message_from_bytes(envelope.original_content)
            assert message["To"] == envelope.rcpt_tos[0]
            assert message["Subject"] == "Sam Taylor asks for your feedback"
            # Plain text and HTML, with the same personal link in both.
            assert message.get_content_type() == "multipart/alternative"
            text_link, html_link = links_in(message)
            assert text_link == html_link
            links.add(text_link)
        assert len(links) == 5  # personal: no two raters share a link
        # A rater follows their link, with no account, and sees whose feedback it is.
        landing = app.test_client().get(links.pop().removeprefix("http://localhost"))
        assert landing.status_code == 200
        assert "Sam Taylor has asked for your feedback" in landing.text
        assert outbox_messages(app) == []
        assert not Path(app.config["MAIL_OUTBOX_DIR"]).exists()

    def test_no_personal_link_reaches_the_log(
        self, app, client, make_person, open_cycle, smtp_server, caplog
    ):
        make_person("Sam Taylor", "sam@example.org")
        cycle = open_cycle()

        with caplog.at_level(logging.DEBUG):
            invite_five_peers(client, cycle.id)

        assert len(smtp_server.handler.envelopes) == 5
        # Everything the app logged (the test's own mail server, "mail.log", logs the data).
        logged = "\n".join(r.getMessage() for r in caplog.records if r.name != "mail.log")
        for envelope in smtp_server.handler.envelopes:
            (link,) = LINK.findall(body_of(message_from_bytes(envelope.original_content)))
            assert link.rsplit("/", 1)[1] not in logged


def test_the_html_part_escapes_what_people_typed(app, client, make_person, open_cycle):
    make_person("Sam <script>alert(1)</script> Taylor", "sam@example.org")
    cycle = open_cycle("Spring <b>2026</b>")

    invite_five_peers_as(client, cycle.id)

    for message in outbox_messages(app):
        html = part_of(message, "text/html")
        assert "<script>" not in html
        assert "Sam &lt;script&gt;alert(1)&lt;/script&gt; Taylor has asked you" in html
        assert "Spring &lt;b&gt;2026&lt;/b&gt;" in html
        # The plain-text part is not HTML: it shows the name as typed.
        assert "Sam <script>alert(1)</script> Taylor has asked you" in body_of(message)
        text_link, html_link = links_in(message)
        assert text_link == html_link


def invite_five_peers_as(client: FlaskClient, cycle_id: int) -> None:
    """Like invite_five_peers, for a subject whose name is not Sam Taylor."""
    assert sign_in(client, "sam@example.org").status_code == 302
    request_page = submit_form(client, "/", {}, action=f"/cycles/{cycle_id}/request").location
    nominate_and_send(client, request_page, [(name, email, "peer") for name, email in RATERS])


def test_report_ready_and_approval_request_mails_link_to_the_app(app, make_person, open_cycle):
    lee = make_person("Lee Morgan", "lee@example.org")
    coach = make_person("Kim Coach", "kim@example.org", is_coach=True)
    sam = make_person("Sam Taylor", "sam@example.org", line_manager=lee)
    request = start_request(open_cycle(), sam)

    mails.send_approval_request(request)
    report_mails.send_reports_ready([(request, sam)])
    report_mails.send_reports_ready([(request, coach)])
    db.session.commit()

    messages = {message["To"]: message for message in outbox_messages(app)}
    approval = messages["lee@example.org"]
    assert approval["Subject"] == "Please approve Sam Taylor's raters"
    assert f"http://localhost/approvals/{request.id}" in body_of(approval)
    assert f'<a href="http://localhost/approvals/{request.id}">' in part_of(approval, "text/html")
    own = messages["sam@example.org"]
    assert own["Subject"] == "Your feedback report is ready"
    assert "Dear Sam,\n\nYour 360-degree feedback report is ready." in body_of(own)
    assert '<a href="http://localhost/">Sign in to read your report' in part_of(own, "text/html")
    assert messages["kim@example.org"]["Subject"] == "Sam Taylor's feedback report is ready"
