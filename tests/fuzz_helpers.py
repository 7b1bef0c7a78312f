"""Hypothesis strategies for hostile form posts, raw bodies to send them, and the verdict.

A post is a list of (name, value) byte pairs, so it can hold what a browser never sends:
a name twice, bytes that are not UTF-8, a field missing, a value of 100 KB.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_from_bytes

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from feedback360.extensions import db
from tests.databases import Snapshot, restore_database

Pairs = list[tuple[bytes, bytes]]
Rows = dict[str, list[tuple[Any, ...]]]
URLENCODED = "application/x-www-form-urlencoded"

# ---------------------------------------------------------------- values and posts

# Text a person might type into any box, and text nobody should.
odd_text = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\t\r\n",
        "0",
        "-1",
        "1e308",
        "NaN",
        "99999999999999999999999",
        "3.5",
        "true",
        "null",
        "[]",
        "{}",
        "'; DROP TABLE person; --",
        "<script>alert(1)</script>",
        '=HYPERLINK("http://x")',
        "Zoë O’Brien-Łukasz",
        "\u202eevil",
        "\ud7ff\ue000\U0010ffff",
        "a@b",
        "@example.org",
        "x" * 255 + "@example.org",
    ]
)
huge_text = st.builds(
    lambda chunk, times: chunk * times,
    st.sampled_from(["x", "é", "漢字", "a b ", "\n"]),
    st.integers(min_value=1_000, max_value=60_000),
)
not_utf8 = st.sampled_from([b"\xff", b"\xc3", b"caf\xe9", b"\xed\xa0\x80", b"\x80abc\xfe"])


@st.composite
def values(draw: st.DrawFn, plausible: Sequence[str]) -> bytes:
    """A value for one field: mostly one that field expects, else anything at all.

    Huge values are rare per field, since a form has dozens of fields and each costs time.
    """
    roll = draw(st.integers(min_value=0, max_value=99))  # shrinks towards a plausible value
    if roll < 55:
        return draw(st.sampled_from(list(plausible)) if plausible else odd_text).encode()
    if roll < 70:
        return draw(odd_text).encode()
    if roll < 82:
        return draw(st.text(max_size=40)).encode("utf-8", "surrogatepass")
    if roll < 88:
        return str(draw(st.integers(min_value=-(10**25), max_value=10**25))).encode()
    if roll < 96:
        return draw(st.one_of(not_utf8, st.binary(max_size=30)))
    return draw(huge_text).encode()


@dataclass(frozen=True)
class Post:
    """One hostile post: its fields, how its CSRF token is sent and how it is encoded."""

    pairs: Pairs
    token: str  # "valid", "missing", "wrong" or "twice" (a wrong one first)
    encoding: str  # "urlencoded", "multipart", "multipart-files", "json", "text", "none"

    def body(self, csrf: str) -> tuple[bytes, dict[str, str]]:
        """The raw body and its headers; a JSON body carries its token in a header, as a
        script would."""
        pairs = list(self.pairs)
        if self.token == "valid":
            pairs.insert(0, (b"csrf_token", csrf.encode()))
        elif self.token == "wrong":
            pairs.insert(0, (b"csrf_token", b"IjAwMDAi.not-a-token"))
        elif self.token == "twice":
            pairs[:0] = [(b"csrf_token", b"stale"), (b"csrf_token", csrf.encode())]
        if self.encoding == "urlencoded":
            return urlencoded(pairs), {"Content-Type": URLENCODED}
        if self.encoding in ("multipart", "multipart-files"):
            return multipart(pairs, as_files=self.encoding == "multipart-files")
        if self.encoding == "json":
            header = {"X-CSRFToken": csrf} if self.token != "missing" else {}
            fields = {name.decode(errors="replace"): _as_json(value) for name, value in pairs}
            return json.dumps(fields).encode(), {"Content-Type": "application/json", **header}
        if self.encoding == "json-list":
            return b"[1, 2]", {"Content-Type": "application/json", "X-CSRFToken": csrf}
        if self.encoding == "text":
            return urlencoded(pairs), {"Content-Type": "text/plain"}
        return urlencoded(pairs), {}


def _as_json(value: bytes) -> object:
    """A field's value as a script might send it: a number, a list, null or text."""
    text = value.decode(errors="replace")
    # isdecimal, not isdigit: "²" is a digit that int() refuses.
    if text.lstrip("-").isdecimal() and len(text) < 30:
        return int(text)
    if not text:
        return None
    return [text, text] if len(text) % 3 == 0 else text


@st.composite
def posts(draw: st.DrawFn, fields: Mapping[str, Sequence[str]]) -> Post:
    """A post of `fields` (name → values that field expects, a valid one first).

    Half the posts are gentle: every field as expected but one, so that accepted posts and
    single-field messages are common. The others are wild: fields missing, sent twice, of
    the wrong kind, and names nobody knows. The CSRF token is valid nine times in ten.
    """
    pairs: Pairs = []
    if draw(st.booleans()):
        odd_one = draw(st.sampled_from([None, *fields]))
        for name, plausible in fields.items():
            value = draw(values(plausible)) if name == odd_one else plausible[0].encode()
            pairs.append((name.encode(), value))
    else:
        for name, plausible in fields.items():
            for _ in range(draw(st.sampled_from([1, 1, 1, 1, 1, 1, 0, 0, 2]))):
                pairs.append((name.encode(), draw(values(plausible))))
        strangers = st.one_of(
            st.sampled_from(["s0", "s999999", "c-1", "c999999", "action", "id", "csrf_token", ""]),
            st.text(max_size=12),
        )
        for _ in range(draw(st.integers(min_value=0, max_value=3))):
            name = draw(strangers).encode("utf-8", "surrogatepass")
            pairs.append((name, draw(values([]))))
        pairs = draw(st.permutations(pairs)) if draw(st.booleans()) else pairs
    token = draw(st.sampled_from(["valid"] * 16 + ["missing", "wrong", "twice", "valid"]))
    encoding = draw(
        st.sampled_from(
            ["urlencoded"] * 13
            + ["multipart"] * 3
            + ["multipart-files", "json", "json-list", "text", "none"]
        )
    )
    return Post(pairs, token, encoding)


def urlencoded(pairs: Pairs) -> bytes:
    return b"&".join(
        quote_from_bytes(name).encode() + b"=" + quote_from_bytes(value).encode()
        for name, value in pairs
    )


def multipart(pairs: Pairs, *, as_files: bool = False) -> tuple[bytes, dict[str, str]]:
    """A multipart body written by hand, so names may repeat and values need not be UTF-8.

    With as_files every field but the CSRF token arrives as an uploaded file.
    """
    boundary = f"fuzz{uuid.uuid4().hex}".encode()
    parts = []
    for name, value in pairs:
        quoted = name.replace(b'"', b"%22").replace(b"\r", b"").replace(b"\n", b"")
        disposition = b'Content-Disposition: form-data; name="' + quoted + b'"'
        if as_files and name != b"csrf_token":
            disposition += b'; filename="upload.csv"\r\nContent-Type: text/csv'
        parts.append(b"--" + boundary + b"\r\n" + disposition + b"\r\n\r\n" + value + b"\r\n")
    body = b"".join(parts) + b"--" + boundary + b"--\r\n"
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary.decode()}"}


# ---------------------------------------------------------------- sending and judging


def send(client: FlaskClient, path: str, body: bytes, headers: dict[str, str]) -> TestResponse:
    """Post a raw body; the response is read and closed, so the request is over."""
    response = client.post(path, data=body, headers=headers, buffered=True)
    response.close()
    return response


def flashed_errors(client: FlaskClient) -> list[str]:
    """The error messages waiting for the next page: how a button says it was refused."""
    with client.session_transaction() as session:
        return [text for category, text in session.get("_flashes", []) if category == "error"]


def database_rows() -> Rows:
    """Every row of every table, read afresh and as stored (no type conversion: faster)."""
    db.session.rollback()
    rows = {}
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            order = ", ".join(f'"{column.name}"' for column in table.primary_key.columns)
            query = f'SELECT * FROM "{table.name}" ORDER BY {order}'  # noqa: S608 (our own names)
            rows[table.name] = [tuple(row) for row in connection.exec_driver_sql(query)]
    return rows


def rows_as_saved(app: Flask, snapshot: Snapshot, saved: Rows) -> Rows:
    """Every row, as when the world was saved: put back only if the last example changed
    it (most posts are refused and change nothing; a restore costs more than a read)."""
    rows = database_rows()
    if rows != saved:
        restore_database(app, snapshot)
        rows = database_rows()
    return rows


def unstorable_text(rows: Rows) -> list[str]:
    """Tables holding text PostgreSQL would refuse (NUL), though SQLite stored it."""
    return [
        name
        for name, table in rows.items()
        if any(isinstance(cell, str) and "\x00" in cell for row in table for cell in row)
    ]


@dataclass
class Tally:
    """What the examples did, printed at the end so the run shows it tested both paths."""

    accepted: int = 0
    refused: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    def count(self, status: int, accepted: bool) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if accepted:
            self.accepted += 1
        else:
            self.refused += 1


def says_why(response: TestResponse) -> bool:
    """The reply carries a message: an alert beside the form, an error page's sentence, or
    for an autosave, the sentence its script shows beside the form."""
    if response.is_json:
        return len(str((response.get_json(silent=True) or {}).get("error", ""))) >= 20
    page = response.text
    return 'role="alert"' in page or bool(re.search(r"</h1>\s*<p>[^<]{20,}</p>", page))


def judge(
    response: TestResponse,
    client: FlaskClient,
    before: Rows,
    what: str,
    tally: Tally,
    *,
    page_again_is_fine: bool = False,
) -> None:
    """No post may fail with a 5xx; a refused one must leave every row as it was.

    Accepted: a redirect with no error waiting, or 204 (an autosave). Anything else is a
    refusal: a 4xx, the form again, or a redirect to a page that shows why; a refusal's page
    must say why, unless `page_again_is_fine` (a post that asked for nothing, such as a
    summary page's without its submit button, gets the page again).
    """
    status = response.status_code
    assert status < 500, f"{what}: failed with {status}"
    refused_by_redirect = 300 <= status < 400 and bool(flashed_errors(client))
    accepted = (300 <= status < 400 and not refused_by_redirect) or status == 204
    tally.count(status, accepted)
    if accepted:
        assert not unstorable_text(database_rows()), f"{what}: stored a NUL character"
    else:
        assert status in (200, 400, 403, 404, 409, 410, 413, 415, 422, 429) or (
            refused_by_redirect
        ), f"{what}: refused with an unexpected {status}"
        after = database_rows()
        changed = [name for name in before if after[name] != before[name]]
        assert not changed, f"{what}: refused with {status}, but changed {changed}"
        if not (status == 200 and page_again_is_fine):
            assert status not in (200, 400) or says_why(response), f"{what}: no message"
