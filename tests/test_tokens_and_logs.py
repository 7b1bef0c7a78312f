"""Personal link tokens: random enough, stored only as a hash, closed with the cycle, and
never written to a log, whether the werkzeug server, gunicorn or the outbox writes it."""

from __future__ import annotations

import base64
import hmac
import http.cookiejar
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from io import StringIO

import pytest
from sqlalchemy import text

from feedback360.accounts.activation import issue_password_token
from feedback360.extensions import db
from feedback360.feedback.links import rater_link, rater_token
from feedback360.feedback.models import Invitation
from feedback360.security.redaction import redact
from tests.conftest import csrf_token, serving
from tests.gunicorn_server import fetch, gunicorn, serving_with

TOKEN = re.compile(r"/r/([A-Za-z0-9_\-]{20,})")


def all_invitations() -> list[Invitation]:
    return list(db.session.scalars(db.select(Invitation)))


def test_rater_links_hold_256_bits_from_128_random_ones_and_nothing_personal(app, invited):
    links = invited()
    for invitation in all_invitations():
        assert len(bytes.fromhex(invitation.token_nonce)) == 16  # 128 random bits
        token = rater_token(invitation)
        assert len(base64.urlsafe_b64decode(token + "=")) == 32
        link = rater_link(invitation)
        assert re.fullmatch(r"http://localhost/r/[A-Za-z0-9_\-]{43}", link)
        # The token is a keyed hash of the random nonce alone: no name, address or id in it.
        digest = hmac.new(b"test", f"rater-link:{invitation.token_nonce}".encode(), "sha256")
        assert base64.urlsafe_b64decode(token + "=") == digest.digest()
    assert len({invitation.token_nonce for invitation in all_invitations()}) == len(links)


def test_no_table_holds_a_token(app, invited, make_person, tmp_path):
    invited()
    ada = make_person("Ada Admin", "ada@example.org", is_admin=True)
    tokens = [rater_token(i) for i in all_invitations()]
    tokens.append(issue_password_token(ada))
    db.session.commit()
    for table in db.metadata.sorted_tables:
        rows = repr(db.session.execute(text(f'SELECT * FROM "{table.name}"')).all())  # noqa: S608
        assert not any(token in rows for token in tokens), table.name
    for database_file in tmp_path.glob("test.sqlite*"):  # the WAL file too
        stored = database_file.read_bytes()
        assert not any(token.encode() in stored for token in tokens), database_file.name


def test_a_link_stops_working_when_the_cycle_closes(app, invited, client, runner):
    links = invited()
    assert runner.invoke(args=["cycle", "close", "Spring 2026"]).exit_code == 0
    response = client.get(links["rater1@example.org"])
    assert response.status_code == 410
    assert "This feedback cycle has closed" in response.text


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            '127.0.0.1 - - "GET /r/AbC-12_x/values/2?saved=1 HTTP/1.1" 200 -',
            '127.0.0.1 - - "GET /r/[redacted]/values/2?saved=1 HTTP/1.1" 200 -',
        ),
        ("Exception on /r/AbC-12_x/form [POST]", "Exception on /r/[redacted]/form [POST]"),
        (
            "GET /account/set-password/Zz9-_a HTTP/1.1",
            "GET /account/set-password/[redacted] HTTP/1.1",
        ),
        ("http://localhost/r/AbC", "http://localhost/r/[redacted]"),
        ('"GET /r/thanks HTTP/1.1" 200', '"GET /r/thanks HTTP/1.1" 200'),
        ("GET /r/declined", "GET /r/declined"),
        ("GET /requests/3", "GET /requests/3"),
        # Encoded, the path still reaches the link's page: redacted after decoding.
        ('"GET /r%2FAbC-12_x HTTP/1.1" 200', '"GET /r/[redacted] HTTP/1.1" 200'),
        ('"GET /%72/AbC-12_x/form HTTP/1.1"', '"GET /r/[redacted]/form HTTP/1.1"'),
        ("GET /%72%2f%41bC-12_x", "GET /r/[redacted]"),
        ("GET /r%252FAbC-12_x", "GET /r/[redacted]"),  # encoded twice
        ("GET /r//AbC-12_x", "GET /r//[redacted]"),  # werkzeug merges the slashes
        ("GET /account%2Fset-password%2FZz9-_a", "GET /account/set-password/[redacted]"),
        ("GET /account//set-password/Zz9-_a", "GET /account//set-password/[redacted]"),
        ("GET /sign-in?next=%2Fr%2FAbC-12_x", "GET /sign-in?next=/r/[redacted]"),
        ("GET /r%2FAbC%0d%0aforged%20line", "GET /r/[redacted]%0D%0Aforged%20line"),
        ("GET /r%2Fthanks", "GET /r%2Fthanks"),
        ("GET /search?q=50%25%2F100", "GET /search?q=50%25%2F100"),
    ],
)
def test_tokens_are_redacted_from_log_lines(line, expected):
    assert redact(line) == expected


class Browser:
    """A rater's browser on the real server: cookies kept, forms posted with their token."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def open(self, path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(self.base + path, data=data, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


@pytest.fixture
def every_log_line():  # type: ignore[no-untyped-def]
    """Every record any logger writes, at every level, as a handler would format it."""
    written = StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    level, werkzeug_level = root.level, logging.getLogger("werkzeug").level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logging.getLogger("werkzeug").setLevel(logging.INFO)
    yield written
    root.removeHandler(handler)
    root.setLevel(level)
    logging.getLogger("werkzeug").setLevel(werkzeug_level)


def test_a_raters_whole_journey_over_a_real_server_logs_no_token(
    app, invited, framework, every_log_line, capfd
):
    links = invited()  # the outbox logs each invitation as it is written
    tokens = [rater_token(i) for i in all_invitations()]
    answers = {f"s{s.id}": "4" for s in framework.statements}
    with serving(app) as base:
        rater = Browser(base)
        first, second = links["rater1@example.org"], links["rater2@example.org"]
        assert rater.open(first)[0] == 200
        status, page = rater.open(f"{first}/values/1")
        assert status == 200
        token = csrf_token(page)
        assert rater.open(f"{first}/values/1", {"csrf_token": token, "action": "save"})[0] == 200
        status, page = rater.open(
            f"{first}/form", {"csrf_token": token, **answers, "action": "submit"}
        )
        assert status == 200
        assert "Thank you" in page
        assert rater.open(first)[0] == 410  # used
        other = Browser(base)
        status, page = other.open(f"{second}/decline")
        assert status == 200
        assert other.open(f"{second}/decline", {"csrf_token": csrf_token(page)})[0] == 200
        assert other.open("/r/" + "x" * 43)[0] == 404

    logged = every_log_line.getvalue() + "".join(capfd.readouterr())
    assert "GET /r/[redacted]" in logged, logged  # the access log was captured
    assert "saved as" in logged  # and so was the outbox
    for token in tokens + ["x" * 43]:
        assert token not in logged


def test_gunicorn_with_our_config_logs_no_token(app, invited, make_person, tmp_path):
    links = invited()
    link = links["rater1@example.org"]
    token = link.rsplit("/", 1)[-1]
    password_token = issue_password_token(make_person("Ada Admin", "ada@example.org"))
    db.session.commit()
    server = gunicorn(
        tmp_path,
        "--workers",
        "1",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        SECRET_KEY=app.config["SECRET_KEY"],
    )
    # Encoded, each path still reaches the link's page (gunicorn decodes it before routing).
    paths = {
        link: 200,
        f"{link}/form": 200,
        f"/r%2F{token}": 200,
        f"/%72/{token}": 200,
        f"/%72%2F{token}/form": 200,
        f"/account/set-password/{password_token}": 200,
        f"/account%2Fset-password%2F{password_token}": 200,
        "/r/" + "y" * 43: 404,
        "/r/thanks": 200,
    }
    with serving_with(server) as base:
        statuses = {path: fetch(base + urllib.parse.urlsplit(path).path) for path in paths}
    assert statuses == paths
    logged = server.logged
    assert "/r/[redacted]" in logged
    assert "/account/set-password/[redacted]" in logged
    assert "/r/thanks" in logged
    assert token not in logged
    assert password_token not in logged
    assert "y" * 43 not in logged
