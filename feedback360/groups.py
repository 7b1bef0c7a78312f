"""The rater groups, their storage names and their labels: the one home of this vocabulary.

Stored on invitations and responses, chosen in a cycle's settings, and shown as report
columns; everything that names a group takes it from here.
"""

from __future__ import annotations

SELF = "self"
LINE_MANAGER = "line_manager"
PEER = "peer"
DIRECT_REPORT = "direct_report"
OTHER = "other"
RATER_GROUPS = (LINE_MANAGER, PEER, DIRECT_REPORT, OTHER)  # in report order
GROUPS = (SELF, *RATER_GROUPS)
# The label a response is stored under at the close when its group is shown only within
# "Other raters": the group itself is then no longer known.
POOLED = "pooled"

# Columns a report may add on top of the groups.
OTHER_RATERS = "other_raters"
ALL_RATERS = "all_raters"

LABELS = {
    SELF: "Self",
    LINE_MANAGER: "Line manager",
    PEER: "Peers",
    DIRECT_REPORT: "Direct reports",
    OTHER: "Others",
    OTHER_RATERS: "Other raters",
    ALL_RATERS: "All raters",
}
