"""The subject access report as a PDF, with reportlab's platypus.

A plain layout meant to be read and printed: one column, real headings,
tables with a header row repeated on every page, and a footer naming the
record and the page. The document carries its title, author, subject and
language (en-GB) and asks viewers to show the title rather than the file
name. Text is set in a TrueType font embedded in the file (DejaVu Sans where
the system has it, otherwise reportlab's own Bitstream Vera), so names with
accents print as written and the text can be copied out.

``subject_access_story`` (the flowables) is separate from the file, so the
report's content can be checked without parsing a PDF.
"""

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape  # nosec B406  # escapes; parses nothing

import reportlab
from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from directory.identifiers import long_date
from directory.selectors.subject_access import ReportInvolvement, SubjectAccessReport

FONT = "CPReportSans"
FONT_BOLD = "CPReportSans-Bold"
#: Fonts tried in order: (regular, bold). The last one ships with reportlab.
_FONT_FILES = (
    (
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ),
    (
        Path(reportlab.__file__).parent / "fonts" / "Vera.ttf",
        Path(reportlab.__file__).parent / "fonts" / "VeraBd.ttf",
    ),
)
NOT_RECORDED = "Not recorded"
MARKING = "OFFICIAL-SENSITIVE: personal data"


@cache
def _register_fonts() -> None:
    regular, bold = next((r, b) for r, b in _FONT_FILES if r.exists() and b.exists())
    pdfmetrics.registerFont(TTFont(FONT, str(regular)))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(bold)))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD
    )


@cache
def _styles() -> dict[str, ParagraphStyle]:
    _register_fonts()
    sample = getSampleStyleSheet()
    body = ParagraphStyle(
        "body", parent=sample["BodyText"], fontName=FONT, fontSize=10, leading=13
    )
    return {
        "title": ParagraphStyle(
            "title",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=20,
            leading=24,
            spaceAfter=6,
        ),
        "caption": ParagraphStyle(
            "caption", parent=body, textColor=colors.HexColor("#505a5f"), fontSize=12
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=14,
            leading=18,
            spaceBefore=12,
            spaceAfter=6,
        ),
        "body": body,
        "cell": ParagraphStyle("cell", parent=body, fontSize=9, leading=11),
        "head": ParagraphStyle(
            "head", parent=body, fontName=FONT_BOLD, fontSize=9, leading=11
        ),
    }


def _text(value: object) -> str:
    """A value as safe paragraph markup: escaped, line breaks kept."""
    return escape(str(value)).replace("\n", "<br/>")


def _day(value: date | None) -> str:
    return long_date(value) if value else NOT_RECORDED


def _moment(value: datetime | None) -> str:
    if value is None:
        return NOT_RECORDED
    local = timezone.localtime(value)
    return f"{local.day} {local:%B %Y, %H:%M}"


def _yes(value: bool) -> str:
    return "Yes" if value else "No"


def _para(value: object, style: str = "body") -> Paragraph:
    return Paragraph(_text(value), _styles()[style])


def _heading(text: str) -> Paragraph:
    return Paragraph(_text(text), _styles()["h2"])


def _table(
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    widths: Sequence[float],
) -> Table:
    data = [[Paragraph(_text(h), _styles()["head"]) for h in header]]
    data += [[_para(cell, "cell") for cell in row] for row in rows]
    table = Table(data, colWidths=list(widths), repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 1, colors.black),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#b1b4b6")),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _summary(pairs: Sequence[tuple[str, object]]) -> Table:
    rows = [
        [Paragraph(_text(k), _styles()["head"]), _para(v, "cell")] for k, v in pairs
    ]
    table = Table(rows, colWidths=[55 * mm, 115 * mm])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#b1b4b6")),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _section(title: str, body: Flowable | None, empty: str) -> list[Flowable]:
    return [KeepTogether([_heading(title), body or _para(empty)])]


def _table_section(
    title: str,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    widths: Sequence[float],
    empty: str,
) -> list[Flowable]:
    """A headed table, or ``empty`` in words when there are no rows."""
    listed = list(rows)
    return _section(title, _table(header, listed, widths) if listed else None, empty)


def subject_access_story(report: SubjectAccessReport) -> list[Flowable]:
    """The report's flowables, in reading order."""
    styles = _styles()
    story: list[Flowable] = [
        Paragraph("Subject access report", styles["title"]),
        Paragraph(
            _text(f"{report.name}, directory number {report.directory_number}"),
            styles["caption"],
        ),
        Spacer(1, 4 * mm),
        _para(
            f"Produced {_moment(report.produced_at)} (UK time) by "
            f"{report.produced_by}. It holds everything the directory holds "
            "about this child and every recorded access to their record."
        ),
        _heading("About the record"),
        _summary(
            [
                ("Directory number", report.directory_number),
                ("Status", report.status),
                ("Responsible local authority", report.responsible_authority),
                ("Restricted (shielded)", _yes(report.shielded)),
                ("Created", _moment(report.created_at)),
                ("Last changed", _moment(report.updated_at)),
                ("Archived", _moment(report.archived_at)),
                (
                    "Consent to keep the record until 25",
                    _yes(report.consent_to_retain_until_25),
                ),
            ]
        ),
        _heading("Identity"),
        _summary(
            [
                ("Date of birth", _day(report.date_of_birth)),
                ("Gender", report.gender),
                ("NHS number", report.nhs_number or NOT_RECORDED),
                ("Unique pupil number", report.upn or NOT_RECORDED),
                ("Date of death", _day(report.date_of_death)),
            ]
        ),
    ]
    story += _table_section(
        "Names",
        ["Kind", "Name", "Recorded"],
        [(n.kind, n.full_name, _moment(n.recorded_at)) for n in report.names],
        [35 * mm, 85 * mm, 50 * mm],
        "No name is recorded.",
    )
    story += _table_section(
        "Addresses",
        ["Address", "Current", "Moved in", "Moved out"],
        [
            (
                "\n".join((*a.lines, a.postcode)),
                _yes(a.is_current),
                _day(a.moved_in_on),
                _day(a.moved_out_on),
            )
            for a in report.addresses
        ],
        [80 * mm, 20 * mm, 35 * mm, 35 * mm],
        "No address is recorded.",
    )
    story += _table_section(
        "Parents and carers",
        ["Name", "Relationship", "Parental responsibility", "How to reach"],
        [
            (
                c.name,
                c.relationship,
                _yes(c.parental_responsibility),
                "\n".join(x for x in (c.phone, c.email, c.address) if x)
                or NOT_RECORDED,
            )
            for c in report.carers
        ],
        [40 * mm, 35 * mm, 30 * mm, 65 * mm],
        "No parent or carer is recorded.",
    )
    story += _table_section(
        "Services and practitioners involved",
        ["Organisation and service", "Practitioner", "Dates", "Notes"],
        [_involvement_row(i) for i in report.involvements],
        [50 * mm, 45 * mm, 35 * mm, 40 * mm],
        "No service has recorded that it works, or worked, with this child.",
    )
    story += _table_section(
        "Warning flags",
        ["Flag", "Contact", "Dates"],
        [
            (
                f.kind,
                "\n".join(
                    x
                    for x in (
                        f"{f.contact_name}, {f.owning_organisation_name}",
                        f.contact_phone,
                        f.contact_email,
                    )
                    if x
                ),
                f"From {_day(f.starts_on)}"
                + (f"\nto {_day(f.ends_on)}" if f.ends_on else ""),
            )
            for f in report.flags
        ],
        [55 * mm, 75 * mm, 40 * mm],
        "No warning flag is recorded.",
    )
    story += _table_section(
        "Where the information came from",
        ["What was set", "By", "When", "Reason for a correction"],
        [
            (p.what, p.source, _moment(p.set_at), p.reason or "")
            for p in report.provenance
        ],
        [45 * mm, 50 * mm, 30 * mm, 45 * mm],
        "No source is recorded.",
    )
    story += _table_section(
        "Records merged",
        ["What happened", "When", "Undone", "Reason given"],
        [
            (m.description, _moment(m.merged_at), _moment(m.undone_at), m.reason)
            for m in report.merges
        ],
        [65 * mm, 30 * mm, 30 * mm, 45 * mm],
        "This record has not been merged with another.",
    )
    story += [
        _heading("Who has accessed the record"),
        _para(
            f"{len(report.accesses)} recorded "
            f"{'event' if len(report.accesses) == 1 else 'events'}, newest first, "
            "including refused attempts and the production of this report."
        ),
        Spacer(1, 2 * mm),
        _table(
            ["When (UK time)", "Who", "Organisation", "What", "Outcome", "Purpose"],
            [
                (
                    _moment(a.occurred_at),
                    f"{a.who}\n{a.role}" if a.role else a.who,
                    a.organisation or NOT_RECORDED,
                    a.action + ("\n(broke glass)" if a.break_glass else ""),
                    "Allowed" if a.allowed else "Refused",
                    a.purpose or "None stated",
                )
                for a in report.accesses
            ],
            [28 * mm, 32 * mm, 32 * mm, 32 * mm, 18 * mm, 28 * mm],
        ),
    ]
    return story


def _involvement_row(i: ReportInvolvement) -> tuple[str, str, str, str]:
    practitioner = (
        ", ".join(x for x in (i.practitioner_name, i.practitioner_role) if x)
        or "Not named"
    )
    contact = "\n".join(x for x in (i.phone, i.email) if x)
    notes = [i.source]
    if i.is_lead_professional:
        notes.append("Lead professional")
    if i.sensitive:
        notes.append("Sensitive service")
    notes += [
        f"Consent to share given by {c.given_by} on {_moment(c.recorded_at)}"
        + (f", withdrawn {_moment(c.withdrawn_at)}" if c.withdrawn_at else "")
        for c in i.consents
    ]
    return (
        f"{i.organisation_name}\n{i.service}",
        practitioner + (f"\n{contact}" if contact else ""),
        f"From {_day(i.started_on)}"
        + (f"\nto {_day(i.ended_on)}" if i.ended_on else ""),
        "\n".join(notes),
    )


def subject_access_pdf(report: SubjectAccessReport, *, service_name: str) -> bytes:
    """The report as a PDF file's bytes."""
    _register_fonts()
    buffer = io.BytesIO()
    title = f"Subject access report: directory number {report.directory_number}"
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=20 * mm,
        title=title,
        author=f"{report.produced_by}, {service_name}",
        subject="Everything the directory holds about one child, and who accessed it",
        creator=service_name,
        lang="en-GB",
        displayDocTitle=True,
    )

    def footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.drawString(
            20 * mm,
            10 * mm,
            f"{MARKING}. Directory number {report.directory_number}.",
        )
        canvas.drawRightString(A4[0] - 20 * mm, 10 * mm, f"Page {doc.page}")
        canvas.restoreState()

    document.build(
        subject_access_story(report), onFirstPage=footer, onLaterPages=footer
    )
    return buffer.getvalue()
