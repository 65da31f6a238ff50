"""Real documents made for tests: PDFs with text pages, with a password."""

from fpdf import FPDF


def pdf_file(pages: list[str], *, title: str | None = None, password: str | None = None) -> bytes:
    """A PDF with one page of text per item (Helvetica, so Latin text only)."""
    pdf = FPDF()
    if title:
        pdf.set_title(title)
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    if password:
        pdf.set_encryption(owner_password="owner-secret", user_password=password)
    return bytes(pdf.output())
