"""Personal reports on the MPS framework, analysed by the engine without a database.

Three subjects, the cases a report has to read well in: Sam with nine raters in four groups
(the demo's shape), Priya whose six raters are all pooled ("Other raters" is everyone), and
Jo whose five raters are all peers. Ratings come from a seeded generator, so every run
reads the same report.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache

import numpy as np

from feedback360.frameworks.services import bundled_framework, read_framework_file
from feedback360.groups import DIRECT_REPORT, LINE_MANAGER, OTHER, PEER, SELF
from feedback360.reports.engine.analysis import analyse
from feedback360.reports.engine.results import ReportDocument, StatementText, ValueText

LIST_ENDING = re.compile(r"[;.,]?( (and|or))?$")
SUBJECTS = {  # first name: rater groups
    "Sam": [LINE_MANAGER] + [PEER] * 4 + [DIRECT_REPORT] * 3 + [OTHER],
    "Priya": [PEER] * 2 + [DIRECT_REPORT] * 2 + [OTHER] * 2,
    "Jo": [PEER] * 5,
}
COMMENTS = [
    (0, "Always makes time to get the details right for victims, even on busy shifts."),
    (1, "Team briefings would land better with more face-to-face time and fewer emails."),
    (2, "Brings people from different units together and gives credit where it is due."),
    (3, "Encourages us to try new ideas, but we rarely look back at what worked."),
]


@cache
def framework() -> tuple[str, list[str], list[ValueText], list[StatementText]]:
    data = read_framework_file(bundled_framework("mps-2006"))
    values, statements = [], []
    for v, value in enumerate(data["values"]):
        values.append(ValueText(value["title"], value["summary"]))
        serious = set(value.get("serious", []))
        for positive, key in ((True, "we_will"), (False, "we_will_not")):
            statements += [
                StatementText(LIST_ENDING.sub("", text), positive, v, text in serious)
                for text in value[key]
            ]
    return data["name"], data["scale"], values, statements


def mps_document(first_name: str, seed: int = 7) -> ReportDocument:
    """The report of one of SUBJECTS, as the engine would build it in a cycle of one."""
    name, scale, values, statements = framework()
    groups = SUBJECTS[first_name]
    rng = np.random.default_rng(seed)
    positive = np.array([s.positive for s in statements])
    value_of = np.array([s.value_index for s in statements])
    # Each rater has a view of each value; answers scatter round it, "We will not" low.
    level = rng.uniform(3.0, 4.6, size=(len(groups) + 1, len(values)))[:, value_of]
    noise = rng.normal(0, 0.7, size=level.shape)
    ratings = np.where(positive, level + noise, 7 - level + noise - 1.5)
    ratings = np.clip(np.rint(ratings), 1, len(scale))
    ratings[rng.random(ratings.shape) < 0.06] = np.nan  # "Not seen"
    ratings[0] = np.nan_to_num(ratings[0], nan=3)  # the self-assessment answers everything
    result = analyse(
        ratings,
        [SELF, *groups],
        value_of,
        positive,
        n_values=len(values),
        comments=[(v, groups[i % len(groups)], text) for i, (v, text) in enumerate(COMMENTS)],
        seed=seed,
    )
    return ReportDocument(
        subject_name=f"{first_name} Taylor",
        subject_first_name=first_name,
        cycle_name="Spring 2027",
        framework_name=name,
        preamble="",
        scale=scale,
        generated_on=date(2027, 3, 1),
        threshold=3,
        values=values,
        statements=statements,
        result=result,
        invited=len(groups) + 1,
    )
