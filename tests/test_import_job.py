"""A staff list imported as a background job: the upload returns at once, the job checks
and saves the list all or nothing, its page follows it, and the set-password mail is
queued with the people and sent by the job's process after the commit, never by the
upload's request.

Most tests run the job here (`run_job`), as its process would; one starts the real process.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from email import message_from_bytes

import pytest
from sqlalchemy import event

from feedback360.accounts.import_progress import Progress
from feedback360.accounts.models import (
    CHECKING,
    FAILED,
    QUEUED,
    REFUSED,
    SAVING,
    SUCCEEDED,
    ImportJob,
)
from feedback360.accounts.welcome_mails import SET_PASSWORD
from feedback360.extensions import db
from feedback360.mailing.models import FAILED as MAIL_FAILED
from feedback360.mailing.models import SENT, SKIPPED, QueuedMail
from feedback360.mailing.services import deliver
from tests.conftest import outbox_messages, page_text, poll_until, submit_form
from tests.test_people_import import (
    HEADER,
    IMPORT_PAGE,
    STAFF,
    imported,
    job_of,
    people_count,
    person,
    post_file,
    refused,
    run_job,
    upload,
)

STAFF_NAMES = ["alex", "bea", "chris", "dana", "cora", "eli", "fay", "gus", "hana", "ivo"]
JOB_TIMEOUT = 120  # seconds: a shared machine can be slow to start a process


def staff_list(count: int) -> str:
    """`count` people, each managed by someone earlier in the list (the first by nobody)."""
    rows = [
        f"Person {n},p{n}@example.org,Police staff,Unit {n % 7},"
        f"{f'p{n // 10}@example.org' if n else ''},,\n"
        for n in range(count)
    ]
    return HEADER + "".join(rows)


def the_job(job_id: int) -> ImportJob:
    db.session.expire_all()  # see what the job's process committed
    return db.session.get_one(ImportJob, job_id)


def queued_mail() -> list[QueuedMail]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(QueuedMail).order_by(QueuedMail.id)))


def accept(admin, content: str) -> int:  # type: ignore[no-untyped-def]
    """Upload a list the page takes, leaving its job queued (not run): the job's id."""
    admin.application.config["PEOPLE_IMPORT_WORKER"] = "none"
    response = post_file(admin, content)
    job_id = job_of(response)
    assert job_id is not None, page_text(response.text)
    return job_id


@pytest.fixture
def dead_pid() -> int:
    """The id of a process that has ended, standing for a job's process that died."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])  # noqa: S603
    process.wait()
    return process.pid


def test_the_upload_only_queues_the_job_and_sends_nothing(app, admin):
    job_id = accept(admin, STAFF)

    # The request has returned: nobody is saved, no mail is queued, none has gone.
    job = the_job(job_id)
    assert (job.state, job.total_rows, job.file_name) == (QUEUED, 10, "staff.csv")
    assert job.file_data == STAFF.encode()
    assert job.started_by is not None
    assert job.started_by.email == "ada@example.org"
    assert people_count() == 1
    assert queued_mail() == []
    assert outbox_messages(app) == []
    text = page_text(admin.get(f"{IMPORT_PAGE}/{job_id}").text)
    assert "Waiting to start." in text
    assert "Refresh to see how far the import has got." in text


def test_a_good_list_saves_everyone_and_the_job_sends_one_mail_to_each_newcomer(app, admin):
    imported(admin, STAFF)  # ten people, and Ada, who is there already
    job_id = accept(admin, STAFF + "Zoë Bell,zoe@example.org,Police staff,Camden,,,\n")
    assert queued_mail()[-1].to_address != "zoe@example.org"  # not queued by the upload

    run_job(app, job_id)

    job = the_job(job_id)
    assert job.state == SUCCEEDED
    assert job.summary == "1 added, 0 updated, 10 unchanged, 0 reactivated, 0 deactivated"
    assert job.file_data is None  # the list is personal data: wiped once the job ended
    assert job.mailed_at is not None
    mail = queued_mail()
    assert [m.kind for m in mail] == [SET_PASSWORD] * 11
    assert sorted(m.to_address for m in mail) == sorted(
        [f"{name}@example.org" for name in STAFF_NAMES] + ["zoe@example.org"]
    )
    assert {m.status for m in mail} == {SENT}
    assert len({m.person_id for m in mail}) == 11  # one each
    assert [m["To"] for m in outbox_messages(app)].count("zoe@example.org") == 1
    text = page_text(admin.get(f"{IMPORT_PAGE}/{job_id}").text)
    assert "Import complete: 1 added, 0 updated, 10 unchanged" in text
    assert "1 of 1 set-password emails sent." in text
    assert "Refresh" not in text  # nothing left to follow


def test_one_bad_row_saves_nobody_queues_no_mail_and_the_page_says_why(app, admin):
    bad = STAFF + "Zed Ray,zed@example.org,Police staff,Camden,nobody@example.org,,\n"

    text = refused(admin, bad)

    assert "Nothing was imported: 1 problem found." in text
    assert (
        "Line 12: line manager nobody@example.org is neither in this file nor already in "
        "feedback360." in text
    )
    assert "Correct these lines in your spreadsheet and upload it again." in text
    assert people_count() == 1
    assert queued_mail() == []
    assert outbox_messages(app) == []
    job = db.session.scalars(db.select(ImportJob)).one()
    assert (job.state, job.file_data) == (REFUSED, None)


def test_the_job_notes_its_progress_as_it_goes(app, admin):
    notes: list[dict[str, object]] = []

    def note(conn, clause, multiparams, params, execution_options, result):  # type: ignore[no-untyped-def]
        if getattr(clause, "is_update", False) and clause.table.name == "import_job":
            values = clause.compile().params
            if "phase" in values or "rows_done" in values:
                notes.append({k: v for k, v in values.items() if k in ("phase", "rows_done")})

    job_id = accept(admin, staff_list(1200))
    event.listen(db.engine, "after_execute", note)
    try:
        run_job(app, job_id)
    finally:
        event.remove(db.engine, "after_execute", note)

    saving = [n for n in notes if n.get("phase") == SAVING]
    assert len(saving) == 1
    # The notes up to the saving phase count the rows checked (those after it, on
    # PostgreSQL, count the rows saved, and carry no phase of their own).
    before_saving = notes[: notes.index(saving[0])]
    checked = [n["rows_done"] for n in before_saving if n.get("phase", CHECKING) == CHECKING]
    assert checked[0] == 0
    assert checked[-1] == 1200
    assert len(checked) >= 2
    assert checked == sorted(checked)
    if db.engine.dialect.name == "sqlite":
        # The job's transaction holds SQLite's write lock: it saves without counting.
        assert saving == [{"phase": SAVING, "rows_done": None}]
    else:
        assert saving == [{"phase": SAVING, "rows_done": 0}]
        assert {"rows_done": 1200} in notes[notes.index(saving[0]) :]
    assert the_job(job_id).state == SUCCEEDED
    assert people_count() == 1201


def test_the_page_shows_a_progress_bar_while_the_job_runs(app, admin):
    job_id = accept(admin, STAFF)
    job = the_job(job_id)
    job.begin(os.getpid())  # this process stands for the job's, alive
    db.session.commit()
    Progress(job_id).phase(CHECKING, 12_000)
    Progress(job_id).rows(4_500)  # a note from a while later (notes are at most 2 a second)

    html = admin.get(f"{IMPORT_PAGE}/{job_id}").text

    assert (
        '<progress id="import-progress" max="12000" value="4500" '
        'aria-labelledby="import-progress-words">' in html
    )
    assert '<p id="import-progress-words">Checking 4,500 of 12,000 rows</p>' in html
    assert "build_status.js" in html
    assert 'role="status" aria-live="polite" data-build-status-text' in html
    assert 'data-running="yes"' in html
    status = admin.get(f"{IMPORT_PAGE}/{job_id}/status").text
    assert "Checking the rows of the file." in page_text(status)

    Progress(job_id).phase(SAVING, 10, counted=False)
    html = admin.get(f"{IMPORT_PAGE}/{job_id}").text
    assert re.search(r'<progress id="import-progress" max="10" aria-labelledby=', html)
    assert "Saving 10 people and their set-password emails, all at once" in page_text(html)


def test_a_job_whose_process_died_is_shown_stopped_and_can_be_started_again(app, admin, dead_pid):
    job_id = accept(admin, STAFF)
    job = the_job(job_id)
    job.begin(dead_pid)  # its process took it, then died before the commit
    db.session.commit()

    page = f"{IMPORT_PAGE}/{job_id}"
    text = page_text(admin.get(page).text)
    assert "The import stopped before it finished. Nothing was saved." in text
    assert "Start the import again" in text
    assert people_count() == 1
    assert the_job(job_id).file_data is not None  # kept, to start again
    refused_now = submit_form(admin, IMPORT_PAGE, {})  # no new upload is blocked by it
    assert refused_now.status_code == 400

    started = submit_form(admin, page, {}, f"{page}/start-again")
    assert started.location == page
    assert the_job(job_id).state == QUEUED
    run_job(app, job_id)

    text = page_text(admin.get(page).text)
    assert "Import complete: 10 added" in text
    assert people_count() == 11
    assert len(outbox_messages(app)) == 10
    again = submit_form(admin, page, {}, f"{page}/start-again")
    assert "Only an import that stopped can be started again." in page_text(
        admin.get(again.location).text
    )


def test_a_stopped_job_can_be_discarded_and_its_file_is_wiped(app, admin, dead_pid):
    job_id = accept(admin, STAFF)
    job = the_job(job_id)
    job.begin(dead_pid)
    db.session.commit()
    page = f"{IMPORT_PAGE}/{job_id}"

    discarded = submit_form(admin, page, {}, f"{page}/discard")

    text = page_text(admin.get(discarded.location).text)
    assert "The import was discarded and its file deleted." in text
    assert "The import could not finish. It stopped, and was discarded." in text
    job = the_job(job_id)
    assert (job.state, job.file_data) == (FAILED, None)
    assert people_count() == 1


def test_a_second_upload_waits_for_the_import_under_way(app, admin):
    first = accept(admin, STAFF)

    response = upload(admin, STAFF)

    assert response.location == f"{IMPORT_PAGE}/{first}"
    text = page_text(admin.get(response.location).text)
    assert "Another import is under way" in text
    assert db.session.scalar(db.select(db.func.count()).select_from(ImportJob)) == 1


def test_a_link_sent_by_hand_before_the_queued_mail_goes_replaces_it(app, admin):
    job_id = accept(admin, HEADER + "Nia Obi,nia@example.org,Police staff,Camden,,,\n")
    run_job(app, job_id)
    nia = person("nia@example.org")

    submit_form(admin, f"/admin/people/{nia.id}", {}, f"/admin/people/{nia.id}/password-link")

    # The queued message is tried again (say after a failure): its link no longer works,
    # so it is not sent.
    (mail,) = queued_mail()
    mail.status = MAIL_FAILED
    db.session.commit()
    deliver([mail.id])
    assert queued_mail()[0].status == SKIPPED
    assert [m["To"] for m in outbox_messages(app)] == ["nia@example.org"] * 2


def test_the_command_line_imports_as_a_job_and_mails_after_the_commit(app, runner, tmp_path):
    good = tmp_path / "staff.csv"
    good.write_text(STAFF, encoding="utf-8")

    result = runner.invoke(args=["people", "import", str(good)])

    assert result.exit_code == 0, result.output
    assert "Import complete: 10 added" in result.output
    assert "10 set-password emails sent." in result.output
    job = db.session.scalars(db.select(ImportJob)).one()
    assert (job.state, job.file_data, job.started_by) == (SUCCEEDED, None, None)
    assert len(outbox_messages(app)) == 10
    again = runner.invoke(args=["people", "import-job", str(job.id)])
    assert again.exit_code == 1
    assert "This import is finished, not waiting to start." in again.output


def test_the_import_page_starts_a_real_process_that_saves_and_mails(app, admin, smtp_server):
    app.config.update(
        MAIL_BACKEND="smtp", SMTP_HOST=smtp_server.hostname, SMTP_PORT=smtp_server.port
    )
    app.config["PEOPLE_IMPORT_WORKER"] = "process"  # as in production

    response = post_file(admin, STAFF)

    job_id = job_of(response)
    assert job_id is not None, page_text(response.text)

    def mailed() -> ImportJob | None:
        job = the_job(job_id)
        assert not job.stopped, "the job's process died"
        return job if job.mailed_at is not None else None

    job = poll_until(mailed, timeout=JOB_TIMEOUT, what="the import job")
    pid = job.pid
    assert pid is not None
    assert pid != os.getpid()  # run by a process of its own

    def ended() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False

    poll_until(ended, timeout=JOB_TIMEOUT, what="the job's process ending")
    assert (job.state, job.file_data) == (SUCCEEDED, None)
    assert people_count() == 11
    envelopes = smtp_server.handler.envelopes
    assert sorted(e.rcpt_tos[0] for e in envelopes) == sorted(
        f"{name}@example.org" for name in STAFF_NAMES
    )
    message = message_from_bytes(envelopes[0].content)
    assert message["Subject"] == "Set your feedback360 password"
    text = page_text(admin.get(response.location).text)
    assert "Import complete: 10 added" in text
    assert "10 of 10 set-password emails sent." in text
