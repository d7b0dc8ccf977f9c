"""Real PDF, Word and EPUB files for the document tests, written into a folder the test gives."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
from fpdf import FPDF

REPORT_HEADER = "Northwind Harbour Annual Report"
PDF_PAGES = [
    [
        "The harbour was founded in 1852 by a company of fishermen who built the first stone pier out of "
        "rubble carried down from the quarry above the town, one cart at a time.",
        "Trade grew quickly once the railway reached the town twenty years later, and the pier was "
        "lengthened twice before the end of the century to take the larger steamers.",
    ],
    [
        # An explicit line break after a hyphen, as a typesetter's hyphenation leaves it.
        "Records kept by the harbour master give detailed infor-\nmation about every ship that docked, "
        "its cargo, its crew and the fees it paid, in ledgers that fill a whole room.",
        "The busiest year on record was 1911, with four thousand arrivals, most of them colliers bound "
        "for the gasworks and the coaling station on the western quay.",
    ],
    [
        "A storm in 1953 destroyed the eastern breakwater, which was rebuilt in granite over the next "
        "three summers by engineers who came from the naval dockyard.",
        "Today the harbour serves ferries, yachts and a small fleet of trawlers, and the old customs "
        "house has become a museum of the town's maritime history.",
    ],
]
LEFT_COLUMN = "The left column describes the lighthouse keepers and their families on the island."
RIGHT_COLUMN = "The right column lists the lifeboat crews who served between the two world wars."


class ReportPDF(FPDF):
    """Every page has the same header and a "Page N of M" footer, as real reports do."""

    def header(self) -> None:
        self.set_font("Helvetica", size=9)
        self.cell(0, 8, REPORT_HEADER, new_x="LMARGIN", new_y="NEXT")

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", size=9)
        self.cell(0, 8, f"Page {self.page_no()} of {{nb}}", align="C")


def write_report_pdf(path: Path) -> Path:
    """Three pages of paragraphs, then a page in two columns."""
    pdf = ReportPDF()
    for paragraphs in PDF_PAGES:
        pdf.add_page()
        pdf.set_font("Helvetica", size=12)
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6, paragraph)
            pdf.ln(6)
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    top = pdf.get_y()
    pdf.multi_cell(85, 6, LEFT_COLUMN)
    pdf.set_xy(110, top)
    pdf.multi_cell(85, 6, RIGHT_COLUMN)
    pdf.output(str(path))
    return path


def write_scanned_pdf(path: Path) -> Path:
    """Pages with only drawings on them, like a scan: there is no text layer."""
    pdf = FPDF()
    for _ in range(2):
        pdf.add_page()
        pdf.set_fill_color(120, 120, 120)
        pdf.rect(20, 20, 170, 250, style="F")
    pdf.output(str(path))
    return path


def write_encrypted_pdf(path: Path) -> Path:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(0, 10, "Confidential figures for the board.")
    pdf.set_encryption(owner_password="owner-secret", user_password="reader-secret")
    pdf.output(str(path))
    return path


def write_docx(path: Path) -> Path:
    document = docx.Document()
    document.add_heading("Field Guide to Coastal Birds", 0)
    document.add_paragraph("This guide covers the birds most often seen along rocky shores.")
    document.add_heading("Gulls", 1)
    document.add_paragraph("The herring gull nests on cliffs and roofs and eats almost anything.")
    table = document.add_table(rows=2, cols=2)
    for row, (bird, length) in enumerate([("Species", "Length"), ("Great black-backed gull", "71 cm")]):
        table.cell(row, 0).text = bird
        table.cell(row, 1).text = length
    document.add_heading("Waders", 2)
    document.add_paragraph("The oystercatcher probes the sand with its long orange bill.")
    document.save(str(path))
    return path


CONTAINER_XML = """<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>"""
# The manifest lists the chapters in the wrong order on purpose: the spine gives the reading order.
PACKAGE_OPF = """<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Voyages</dc:title></metadata>
  <manifest>
    <item id="second" href="text/chapter%202.xhtml" media-type="application/xhtml+xml"/>
    <item id="first" href="text/chapter1.xhtml" media-type="application/xhtml+xml"/>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" NAV_PROPERTIES/>
    <item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>
    <item id="css" href="style.css" media-type="text/css"/>
  </manifest>
  <spine SPINE_TOC><itemref idref="first"/><itemref idref="second"/></spine>
</package>"""
NCX_XML = """<?xml version="1.0" encoding="UTF-8"?>
<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1"><navMap>
  <navPoint id="p1"><navLabel><text>I. Leaving Port</text></navLabel><content src="text/chapter1.xhtml"/>
    <navPoint id="p1a"><navLabel><text>At the quay</text></navLabel><content src="text/chapter1.xhtml#q"/></navPoint>
  </navPoint>
  <navPoint id="p2"><navLabel><text>II. The Sea</text></navLabel><content src="text/chapter%202.xhtml"/></navPoint>
</navMap></ncx>"""
NAV_XHTML = """<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"><body>
<nav epub:type="toc"><ol>
  <li><a href="text/chapter1.xhtml">Chapter 1: Leaving Port</a></li>
  <li><a href="text/chapter%202.xhtml#start">Chapter 2: The Sea</a></li>
</ol></nav></body></html>"""
CHAPTER_ONE = """<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>One</title><style>p { margin: 0 }</style></head>
<body><h1>Leaving Port</h1><p>The schooner left Bristol at dawn with a crew of nine.</p></body></html>"""
CHAPTER_TWO = """<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Two</title></head>
<body><p id="start">For forty days they saw no land &amp; ate salted cod.</p></body></html>"""
DRM_ENCRYPTION_XML = """<?xml version="1.0"?>
<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container"
    xmlns:enc="http://www.w3.org/2001/04/xmlenc#">
  <enc:EncryptedData>
    <enc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
    <enc:CipherData><enc:CipherReference URI="OEBPS/text/chapter1.xhtml"/></enc:CipherData>
  </enc:EncryptedData>
</encryption>"""
FONT_ENCRYPTION_XML = DRM_ENCRYPTION_XML.replace(
    "http://www.w3.org/2001/04/xmlenc#aes128-cbc", "http://www.idpf.org/2008/embedding"
).replace("OEBPS/text/chapter1.xhtml", "OEBPS/fonts/serif.otf")


def write_epub(path: Path, encryption_xml: str | None = None, toc: str = "nav") -> Path:
    """Two chapters; ``toc`` is "nav" (EPUB 3), "ncx" (EPUB 2) or "none"."""
    package = PACKAGE_OPF.replace("NAV_PROPERTIES", 'properties="nav"' if toc == "nav" else "")
    package = package.replace("SPINE_TOC", 'toc="ncx"' if toc == "ncx" else "")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/container.xml", CONTAINER_XML)
        if encryption_xml is not None:
            archive.writestr("META-INF/encryption.xml", encryption_xml)
        archive.writestr("OEBPS/content.opf", package)
        archive.writestr("OEBPS/nav.xhtml", NAV_XHTML)
        archive.writestr("OEBPS/toc.ncx", NCX_XML)
        archive.writestr("OEBPS/style.css", "p { margin: 0 }")
        archive.writestr("OEBPS/text/chapter1.xhtml", CHAPTER_ONE)
        archive.writestr("OEBPS/text/chapter 2.xhtml", CHAPTER_TWO)
    return path
