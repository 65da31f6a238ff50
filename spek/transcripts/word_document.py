"""DOCX: a heading with what the recording is, the speakers with their talk time, then the turns."""

from io import BytesIO

from docx import Document
from docx.shared import Pt, RGBColor

from spek.transcripts.document import talk_times, turns
from spek.transcripts.fragments import Selection
from spek.transcripts.timecodes import clock

GREY = RGBColor(0x75, 0x75, 0x75)


def docx(selection: Selection) -> bytes:
    document, segments = selection.document, selection.segments
    word = Document()
    word.core_properties.title = document.title
    word.core_properties.language = document.language
    normal = word.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(11)
    normal.paragraph_format.space_after = Pt(6)

    word.add_heading(document.title, level=0)
    facts = [
        ("Date", f"{document.recorded_at:%Y-%m-%d %H:%M} UTC"),
        ("Duration", clock(document.duration_seconds)),
        ("Language", document.language),
    ]
    if not selection.fragment.whole and segments:
        first, last = segments[0].start + selection.offset, segments[-1].end + selection.offset
        shifted = f" (times here start from {clock(first - selection.offset)})" if selection.offset else ""
        facts.append(("Excerpt", f"{clock(first)} – {clock(last)}{shifted}"))
    for label, value in facts:
        paragraph = word.add_paragraph()
        paragraph.add_run(f"{label}: ").bold = True
        paragraph.add_run(value)

    talk = talk_times(segments)
    speaking = [speaker for speaker in document.speakers if speaker.label in talk]
    if speaking:
        word.add_heading("Speakers", level=1)
        for speaker in speaking:
            paragraph = word.add_paragraph(style="List Bullet")
            paragraph.add_run(speaker.display_name).bold = True
            paragraph.add_run(f" — {clock(talk[speaker.label])}")

    word.add_heading("Transcript", level=1)
    for turn in turns(segments):
        paragraph = word.add_paragraph()
        name = document.speaker_name(turn.speaker)
        if name:
            paragraph.add_run(name).bold = True
            paragraph.add_run(" ")
        paragraph.add_run(f"[{clock(turn.start)}]").font.color.rgb = GREY
        paragraph.add_run().add_break()
        paragraph.add_run(turn.text)

    out = BytesIO()
    word.save(out)
    return out.getvalue()
