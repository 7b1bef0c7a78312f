"""The audit log's actions in plain words: the one place that says what each code means."""

from __future__ import annotations

ACTION_WORDS = {
    "cycle.create": "Cycle created",
    "cycle.update": "Cycle settings changed",
    "cycle.open": "Cycle opened",
    "cycle.close": "Cycle closed",
    "nominations.add": "Rater added",
    "nominations.remove": "Rater removed",
    "nominations.approve": "Outside rater approved",
    "reminders.send": "Reminders sent",
    "mail.retry": "Undelivered messages tried again",
    "reports.build": "Report build started",
    "reports.built": "Report build finished",
    "reports.release_to_coaches": "Reports released to coaches",
    "reports.release": "Reports released",
    "report.view": "Report read",
    "report.download": "Report downloaded",
    "debrief.record": "Debrief recorded",
    "organisation.download": "Organisation summary downloaded",
    "retention.apply": "Answers deleted at the end of the retention period",
    "people.import": "Staff list imported",
    "person.roles": "Roles changed",
    "person.coach": "Coach changed",
    "person.deactivate": "Account deactivated",
    "person.reactivate": "Account reactivated",
    "person.password_link": "Set-password link sent",
    "person.second_factor_clear": "Second factor cleared",
    "person.single_sign_on": "Single sign-on linked",
    "person.erase": "Personal data erased",
}


def action_words(action: str) -> str:
    """What the action code means; a code not listed yet reads as its own words."""
    if action in ACTION_WORDS:
        return ACTION_WORDS[action]
    words = action.replace(".", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else "Unknown action"
