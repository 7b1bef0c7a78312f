"""Comments in any script print in the PDF: every character is there, set in a real face.

Raters write in Arabic, Hebrew, Devanagari and Chinese, and with an emoji. DejaVu Sans,
the report's first font, has none of these; without Debian's Noto families (installed by
scripts/system-deps.sh, named in the report's font list) they printed as empty boxes.
"""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from feedback360.closing import close_cycle
from feedback360.extensions import db
from feedback360.feedback import services
from feedback360.feedback.answers import Answers
from feedback360.reports.building import build_cycle_reports
from tests.conftest import nominate_colleague

# Each comment, and the faces that may carry it: DejaVu Sans has Arabic and Hebrew letters
# of its own, so those stay in it (or in Noto's, should it ever lack one); the others have
# none in DejaVu and must come from Noto.
COMMENTS = {
    "يستمع جيدا إلى الفريق": ("DejaVuSans", "NotoSansArabic"),
    "מקשיב היטב לצוות": ("DejaVuSans", "NotoSansHebrew"),
    "टीम की बात ध्यान से सुनते हैं": ("NotoSansDevanagari",),
    "总是认真倾听团队的意见": ("NotoSansCJK",),
    "Always listens 👍🙂": ("NotoColorEmoji",),
}


@pytest.fixture
def pdf(make_person, framework, open_cycle) -> PdfReader:
    sam = make_person("Sam Taylor", "sam@example.org")
    cycle = open_cycle("Spring 2026", min_raters=len(COMMENTS))
    request = services.start_request(cycle, sam)
    for n in range(len(COMMENTS)):
        nominate_colleague(request, f"Rater {n}", f"rater{n}@example.org", "peer")
    services.send_invitations(request)
    ratings = {s.id: 4 for s in framework.statements}
    for invitation, text in zip(request.invitations, COMMENTS, strict=True):
        answers = Answers(ratings, {framework.values[0].id: text})
        services.submit_rater_response(invitation, answers)
    close_cycle(cycle)
    report = build_cycle_reports(cycle)[0]
    db.session.commit()
    return PdfReader(io.BytesIO(report.pdf))


def test_every_character_of_a_comment_in_any_script_is_in_the_pdf(pdf):
    # Right-to-left text comes out in the order it is drawn, and a conjunct may come out as
    # one glyph's characters: what must hold is that no character is lost.
    text = "".join(page.extract_text() for page in pdf.pages)
    for comment in COMMENTS:
        missing = sorted({c for c in comment if not c.isspace() and c not in text})
        assert not missing, f"{comment!r}: {missing} not in the PDF"


def faces(pages) -> set[str]:  # type: ignore[no-untyped-def]
    """The names of the fonts the pages draw text in, without subset tags and hyphens."""
    fonts = set()
    for page in pages:
        # The pages may share one dictionary of fonts: only those their text selects count.
        chosen = set(re.findall(rb"/([^\s/]+)\s+[\d.]+\s+Tf", page.get_contents().get_data()))
        resources = page["/Resources"].get_object()
        for key, font in resources["/Font"].get_object().items():
            if key.lstrip("/").encode() in chosen:
                # A subset's name is a tag and the face's name: /ABCDEF+Noto-Sans-Arabic.
                name = re.sub(r"^/?[A-Z]{6}\+", "", str(font.get_object()["/BaseFont"]))
                fonts.add(name.replace("-", ""))
    return fonts


def test_each_script_is_set_in_a_noto_face_not_a_missing_glyph_box(pdf):
    fonts = faces(pdf.pages)
    for comment, faces_for_it in COMMENTS.items():
        used = [name for name in fonts if name.startswith(faces_for_it)]
        assert used, f"{comment!r}: none of {faces_for_it} in the PDF's fonts {sorted(fonts)}"


def test_the_rest_of_the_report_stays_in_dejavu_sans(pdf):
    # Named in the font list, Noto Color Emoji took the digits (they are emoji too, as
    # keycaps) and spread every number out: emoji come to it by fontconfig's fallback.
    assert {name.removesuffix("Bold") for name in faces(pdf.pages[:1])} <= {
        "DejaVuSans",
        "DejaVuSansOblique",
    }
