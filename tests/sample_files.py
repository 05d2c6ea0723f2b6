"""Real files of every kind an editor publishes, and the files an attacker disguises as them: made on the spot
(Pillow, sqlite3, zipfile), so each test knows exactly what it put in."""

from __future__ import annotations

import io
import sqlite3
import struct
import zipfile
from pathlib import Path

from PIL import Image

SECRET = "kanri.taro@example.go.jp-0123456789"
CAMERA = "SecretCam X100"
ARTIST = "Taro Yamada, Embassy of Japan"
COMMENT = "自宅のベランダから撮影"
GPS = {1: "N", 2: (35.0, 41.0, 22.5), 3: "E", 4: (139.0, 41.0, 30.25)}


def png(width: int = 40, height: int = 30, colour: tuple[int, int, int] = (0, 90, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def jpeg(width: int = 40, height: int = 30) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 90, 0)).save(out, "JPEG")
    return out.getvalue()


def camera_exif(orientation: int = 1) -> Image.Exif:
    """What a phone writes: camera, owner, GPS position, orientation."""
    exif = Image.Exif()
    exif[0x010F] = "SecretMaker"
    exif[0x0110] = CAMERA
    exif[0x013B] = ARTIST
    exif[0x0112] = orientation
    exif[0x8825] = GPS
    return exif


XMP = (f'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
       f'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" '
       f'dc:creator="{ARTIST}" dc:description="{SECRET}"/></rdf:RDF></x:xmpmeta><?xpacket end="w"?>').encode()


def _iptc_segment() -> bytes:
    """APP13 as Photoshop writes IPTC: a by-line and a caption."""
    def record(dataset: int, value: bytes) -> bytes:
        return b"\x1c\x02" + bytes([dataset]) + struct.pack(">H", len(value)) + value
    iptc = record(80, ARTIST.encode()) + record(120, SECRET.encode())
    resource = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(iptc)) + iptc + (b"\x00" if len(iptc) % 2 else b"")
    payload = b"Photoshop 3.0\x00" + resource
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


def photo(width: int = 64, height: int = 48, orientation: int = 1, trailer: bool = True) -> bytes:
    """A phone photo: EXIF (camera, owner, GPS), XMP, IPTC, a comment, and a second image appended after the
    picture as phones do (depth maps, motion photos)."""
    out = io.BytesIO()
    image = Image.new("RGB", (width, height), (30, 120, 60))
    image.paste((250, 250, 0), (0, 0, width // 4, height // 4))  # a corner to see which way is up
    image.save(out, "JPEG", exif=camera_exif(orientation), comment=COMMENT.encode(), xmp=XMP, quality=90)
    data = out.getvalue()
    data = data[:2] + _iptc_segment() + data[2:]
    return data + (b"\xff\xd8" + SECRET.encode() + b"\xff\xd9" if trailer else b"")


def png_with_metadata(orientation: int = 1) -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", ARTIST)
    info.add_itxt("Description", SECRET)
    info.add_text("Comment", COMMENT, zip=True)
    out = io.BytesIO()
    image = Image.new("RGBA", (48, 32), (0, 0, 0, 0))
    image.paste((200, 0, 0, 255), (0, 0, 12, 8))
    image.save(out, "PNG", pnginfo=info, exif=camera_exif(orientation))
    return out.getvalue()


def gif_with_metadata() -> bytes:
    frames = [Image.new("RGB", (20, 20), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], loop=0, duration=100,
                   comment=f"{COMMENT} {SECRET}".encode())
    data = out.getvalue()
    xmp = b"\x21\xff\x0bXMP DataXMP" + bytes([len(XMP[:255])]) + XMP[:255] + b"\x00"
    return data[:-1] + xmp + data[-1:]


def webp_with_metadata(orientation: int = 1) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 20, 200)).save(out, "WEBP", exif=camera_exif(orientation), xmp=XMP)
    return out.getvalue()


PDF = (b"%PDF-1.4\n1 0 obj <</Type/Catalog/Pages 2 0 R>> endobj\n2 0 obj <</Type/Pages/Kids[]/Count 0>> endobj\n"
       b"trailer <</Root 1 0 R>>\n%%EOF\n")


def office(kind: str = "docx", extra: dict[str, bytes] | None = None) -> bytes:
    part = {"docx": "word/document.xml", "pptx": "ppt/presentation.xml", "xlsx": "xl/workbook.xml"}[kind]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr(part, "<document/>")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def project_zip(root: Path) -> bytes:
    """A zip of the project as someone would make for a colleague: .git, the ledger and all."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(".git/config", f"[remote]\n token = {SECRET}\n")
        archive.writestr("state/ledger.sqlite3", database_bytes(root / "zipped.sqlite3"))
        archive.writestr("mkdocs.yml", "site_name: x\n")
    return out.getvalue()


def database_bytes(path: Path) -> bytes:
    """A real SQLite file holding a subscriber address, as the send ledger does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as connection:
        connection.execute("create table subscribers (address text)")
        connection.execute("insert into subscribers values (?)", (SECRET,))
    connection.close()
    return path.read_bytes()


def mp4_head() -> bytes:
    return b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64


SAMPLES: dict[str, bytes] = {
    "png": png(), "jpg": jpeg(), "jpeg": jpeg(), "gif": gif_with_metadata(), "webp": webp_with_metadata(),
    "pdf": PDF, "docx": office("docx"), "pptx": office("pptx"), "mp4": mp4_head(), "mov": mp4_head(),
    "webm": b"\x1a\x45\xdf\xa3" + b"\x00" * 60, "mp3": b"ID3\x04\x00" + b"\x00" * 60, "css": b"body { color: red; }\n",
    "md": "# 見出し\n\n本文。\n".encode(), "vtt": b"WEBVTT\n\n00:00.000 --> 00:01.000\nhi\n", "woff2": b"wOF2" + b"\x00" * 40,
}
"""One genuine file per published kind (the gate must let each through under its own name)."""
