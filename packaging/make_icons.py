"""Render the app icon for every platform from resources/icons/reading-assistant.svg.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/make_icons.py

Needs only PySide6 (the project's own dependency): Qt's SVG renderer draws each size and the .ico
and .icns containers are written here by hand. Writes, beside the SVG:

- reading-assistant-<N>.png for N in 16 24 32 48 64 128 256 512 (the Linux tarball installs them
  into the hicolor icon theme) and reading-assistant.png (256 px, for documentation);
- reading-assistant.ico: 16, 24, 32, 48, 64, 128 and 256 px (uncompressed 32-bit bitmaps up to
  64 px for the oldest Windows shells, PNG above), for PyInstaller's executables and Inno Setup;
- reading-assistant.icns: 16 to 512 px with the Retina variants, for the macOS .app.

Run it again whenever the SVG changes and commit the outputs: the build does not render them.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ICONS = ROOT / "resources" / "icons"
SVG = ICONS / "reading-assistant.svg"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICO_BITMAP_UP_TO = 64  # larger entries are stored as PNG (Windows Vista and later read them)
# (type, pixel size) of the PNG entries of an .icns file; the @2x types reuse the larger renderings.
ICNS_ENTRIES = (
    ("icp4", 16),
    ("icp5", 32),
    ("icp6", 64),
    ("ic07", 128),
    ("ic08", 256),
    ("ic09", 512),
    ("ic11", 32),  # 16@2x
    ("ic12", 64),  # 32@2x
    ("ic13", 256),  # 128@2x
    ("ic14", 512),  # 256@2x
)


def render(renderer, size: int):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter

    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    return image.convertToFormat(QImage.Format.Format_ARGB32)


def png_bytes(image) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise RuntimeError("Qt could not encode a PNG")
    buffer.close()
    return bytes(data.data())


def bitmap_bytes(image) -> bytes:
    """An icon directory entry as a 32-bit BGRA DIB: bottom-up rows, then the 1-bit AND mask."""
    size = image.width()
    rows = []
    mask_rows = []
    mask_stride = ((size + 31) // 32) * 4
    for y in reversed(range(size)):
        line = bytes(image.constScanLine(y))[: size * 4]  # ARGB32 is B, G, R, A in memory
        rows.append(line)
        bits = bytearray(mask_stride)
        for x in range(size):
            if line[4 * x + 3] == 0:
                bits[x // 8] |= 0x80 >> (x % 8)
        mask_rows.append(bytes(bits))
    pixels = b"".join(rows)
    mask = b"".join(mask_rows)
    header = struct.pack("<IiiHHIIiiII", 40, size, 2 * size, 1, 32, 0, len(pixels) + len(mask), 0, 0, 0, 0)
    return header + pixels + mask


def ico_bytes(images: dict[int, object]) -> bytes:
    entries = []
    for size in ICO_SIZES:
        image = images[size]
        entries.append((size, bitmap_bytes(image) if size <= ICO_BITMAP_UP_TO else png_bytes(image)))
    offset = 6 + 16 * len(entries)
    directory = [struct.pack("<HHH", 0, 1, len(entries))]
    for size, data in entries:
        side = 0 if size >= 256 else size  # 0 means 256
        directory.append(struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset))
        offset += len(data)
    return b"".join(directory) + b"".join(data for _, data in entries)


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    body = b"".join(
        kind.encode("ascii") + struct.pack(">I", 8 + len(pngs[size])) + pngs[size] for kind, size in ICNS_ENTRIES
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 (QImage painting needs it)
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        print(f"make_icons: cannot read {SVG}", file=sys.stderr)
        return 1
    images = {size: render(renderer, size) for size in PNG_SIZES}
    pngs = {size: png_bytes(image) for size, image in images.items()}
    written = []
    for size, data in pngs.items():
        path = ICONS / f"reading-assistant-{size}.png"
        path.write_bytes(data)
        written.append(path)
    generic = ICONS / "reading-assistant.png"
    generic.write_bytes(pngs[256])
    (ICONS / "reading-assistant.ico").write_bytes(ico_bytes(images))
    (ICONS / "reading-assistant.icns").write_bytes(icns_bytes(pngs))
    written += [generic, ICONS / "reading-assistant.ico", ICONS / "reading-assistant.icns"]
    for path in written:
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
