"""Files that are not pictures: what their bytes really are, and whether that is what their name says.

The name's extension says what the uploader means to send; the content decides what it is.
`filetype` reads the first bytes (magic numbers); office documents are then opened as the zips
they are and must name their kind inside ([Content_Types].xml, or ODF's `mimetype` entry);
text must decode (UTF-8, or GBK for a Chinese .txt/.csv) with no NUL byte and must not be a
markup document. Programs, scripts, HTML, SVG, XML and anything unknown are refused.
"""
from __future__ import annotations

import os
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from io import BytesIO

import filetype
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .errors import ServiceError


@dataclass(frozen=True)
class FileType:
    """An accepted kind of file: how it is shown and served."""

    kind: str  # "file", "audio" or "video"
    mime: str
    label: LazyString  # "a PDF", as in "This file is not a PDF"


WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EXCEL = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
POWERPOINT = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT, ODS, ODP = (f"application/vnd.oasis.opendocument.{name}" for name in ("text", "spreadsheet", "presentation"))

# By the extension the uploader's name ends in.
ACCEPTED: dict[str, FileType] = {
    "pdf": FileType("file", "application/pdf", _l("a PDF")),
    "docx": FileType("file", WORD, _l("a Word document")),
    "xlsx": FileType("file", EXCEL, _l("an Excel spreadsheet")),
    "pptx": FileType("file", POWERPOINT, _l("a PowerPoint presentation")),
    "odt": FileType("file", ODT, _l("an OpenDocument text")),
    "ods": FileType("file", ODS, _l("an OpenDocument spreadsheet")),
    "odp": FileType("file", ODP, _l("an OpenDocument presentation")),
    "txt": FileType("file", "text/plain", _l("a text file")),
    "csv": FileType("file", "text/csv", _l("a CSV file")),
    "md": FileType("file", "text/markdown", _l("a Markdown file")),
    "zip": FileType("file", "application/zip", _l("a ZIP archive")),
    "mp3": FileType("audio", "audio/mpeg", _l("an MP3 recording")),
    "ogg": FileType("audio", "audio/ogg", _l("an Ogg recording")),
    "wav": FileType("audio", "audio/wav", _l("a WAV recording")),
    "m4a": FileType("audio", "audio/mp4", _l("an M4A recording")),
    "mp4": FileType("video", "video/mp4", _l("an MP4 video")),
    "webm": FileType("video", "video/webm", _l("a WebM video")),
}
TEXT = {"txt", "csv", "md"}
GBK_TEXT = {"txt", "csv"}  # what Chinese Windows saves a spreadsheet's CSV or a note as
# What filetype reports -> which extensions those bytes may carry (an M4A and an MP4 are one container).
SNIFFED = {
    "application/pdf": {"pdf"},
    "audio/mpeg": {"mp3"},
    "audio/ogg": {"ogg"},
    "audio/x-wav": {"wav"},
    "audio/mp4": {"m4a", "mp4"},
    "video/mp4": {"mp4", "m4a"},
    "video/webm": {"webm"},
}
ZIP_SIGNATURE = b"PK\x03\x04"
# [Content_Types].xml's main part, and ODF's mimetype entry: the document kind a zip says it is.
OOXML_MAIN = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": "pptx",
}
ODF_MIMETYPE = {ODT: "odt", ODS: "ods", ODP: "odp"}
MAX_MANIFEST_BYTES = 1024 * 1024  # a [Content_Types].xml is a few kB; never inflate more to read it
EXECUTABLE_MAGIC = (
    b"\x7fELF",  # Linux and other Unix programs
    b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe",  # Mach-O (macOS)
    b"\xca\xfe\xba\xbe",  # a universal Mach-O, or a Java class
    b"#!",  # a script for an interpreter
)
MARKUP = re.compile(rb"\s*<(!doctype|html|head|body|script|iframe|\?xml|svg|!--)", re.IGNORECASE)
MAX_NAME = 120
FALLBACK_STEM = "file"

ACCEPTED_LIST = _l(
    "chatapp accepts pictures (PNG, JPEG, GIF, WebP), PDF, Word, Excel, PowerPoint and OpenDocument files, "
    "text (.txt, .csv, .md), ZIP archives, audio (MP3, Ogg, WAV, M4A) and video (MP4, WebM)."
)


@dataclass(frozen=True)
class Sniffed:
    """What a file's bytes turned out to be, accepted: its kind, served type and extension."""

    kind: str
    mime: str
    extension: str


def extension_of(filename: str | None) -> str:
    """The lower-case extension of a file name ("" if none)."""
    return os.path.splitext(filename or "")[1].lstrip(".").lower()


def _is_program(data: bytes) -> bool:
    """Whether data is a program (ELF, PE, Mach-O) or a script for an interpreter (#!)."""
    # A Windows program starts "MZ" followed by binary header fields; a text may start "MZ" too.
    return data.startswith(EXECUTABLE_MAGIC) or (data.startswith(b"MZ") and b"\x00" in data[:64])


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limit: int) -> bytes:
    """At most limit bytes of a zip member, however large its header says it is (a zip bomb inflates no further)."""
    with archive.open(member) as handle:
        return handle.read(limit)


def _zip_kind(data: bytes) -> str | None:
    """The office document a zip says it is ("docx", "odt", …), "zip" for a plain one, None if damaged."""
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            members = {info.filename: info for info in archive.infolist()}
            odf = members.get("mimetype")
            if odf is not None:
                return ODF_MIMETYPE.get(_read_member(archive, odf, 128).decode("ascii", "replace").strip(), "zip")
            manifest = members.get("[Content_Types].xml")
            if manifest is not None:
                types = _read_member(archive, manifest, MAX_MANIFEST_BYTES).decode("utf-8", "replace")
                for main, extension in OOXML_MAIN.items():
                    if f'ContentType="{main}"' in types:
                        return extension
            return "zip"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, ValueError, EOFError):
        return None


def _decode_text(data: bytes, extension: str) -> str | None:
    """The charset text decodes with ("utf-8", "gbk"), or None if it is not text."""
    if b"\x00" in data:
        return None
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if extension in GBK_TEXT:
        try:
            data.decode("gbk")
            return "gbk"
        except UnicodeDecodeError:
            pass
    return None


def _markup_label(data: bytes) -> str | None:
    """What markup document data is ("HTML", "SVG", "XML"), if it is one."""
    head = data[:4096].removeprefix(b"\xef\xbb\xbf")
    if not MARKUP.match(head):
        return None
    lowered = head.lower()
    if b"<svg" in lowered:
        return "SVG"
    if lowered.lstrip().startswith(b"<?xml") and b"<html" not in lowered:
        return "XML"
    return "HTML"


def _mismatch(expected: FileType, found: str, *, refused: bool = False) -> ServiceError:
    if refused:
        message = _("This file is not %(expected)s: its content is %(found)s, which cannot be sent.",
                    expected=expected.label, found=found)
    else:
        message = _("This file is not %(expected)s: its content is %(found)s. Send the real file.",
                    expected=expected.label, found=found)
    return ServiceError("invalid", message)


def sniff_file(data: bytes, filename: str | None) -> Sniffed:
    """Check data is what its name's extension says, of a kind accepted; raise invalid saying what it really is."""
    extension = extension_of(filename)
    expected = ACCEPTED.get(extension)
    if expected is None:
        if extension:
            message = _("Files ending in .%(extension)s cannot be sent.", extension=extension)
        else:
            message = _("That file's name says nothing of its type (like .pdf).")
        raise ServiceError("invalid", f"{message} {ACCEPTED_LIST}")
    if not data:
        raise ServiceError("invalid", _("That file is empty."))
    if _is_program(data):
        raise _mismatch(expected, _("a program or a script"), refused=True)
    guess = filetype.guess(data)
    if guess is not None and guess.mime.startswith("image/"):
        raise _mismatch(expected, _("a picture"))
    if data.startswith(ZIP_SIGNATURE):
        found = _zip_kind(data)
        if found is None:
            raise _mismatch(expected, _("a damaged ZIP archive"))
        if found != extension and extension != "zip":  # an office document is a zip too
            raise _mismatch(expected, ACCEPTED[found].label)
        return Sniffed(expected.kind, expected.mime, extension)
    if guess is not None:
        allowed = SNIFFED.get(guess.mime)
        if allowed is None:
            raise _mismatch(expected, _("a .%(extension)s file", extension=guess.extension), refused=True)
        if extension not in allowed:
            raise _mismatch(expected, ACCEPTED[sorted(allowed)[0]].label)
        return Sniffed(expected.kind, expected.mime, extension)
    markup = _markup_label(data)
    if markup is not None:
        raise _mismatch(expected, markup, refused=extension in TEXT)
    charset = _decode_text(data, extension)
    if charset is None:
        raise ServiceError("invalid", _("This file is not %(expected)s, and its content is of a kind chatapp does not "
                                        "accept.", expected=expected.label))
    if extension not in TEXT:
        raise _mismatch(expected, _("plain text"))
    return Sniffed(expected.kind, f"{expected.mime}; charset={charset}", extension)


def clean_display_name(filename: str | None, extension: str) -> str:
    """The uploader's name to show: no folders, control, format (bidi) characters; at most MAX_NAME characters."""
    base = re.split(r"[/\\]", filename or "")[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(" " if char.isspace() else char for char in base if unicodedata.category(char)[0] != "C")
    base = re.sub(r" {2,}", " ", base).strip(" .")
    stem = base[: -len(extension) - 1] if base.lower().endswith("." + extension) else base
    stem = stem.strip(" .")[: MAX_NAME - len(extension) - 1].rstrip(" .") or FALLBACK_STEM
    return f"{stem}.{extension}"
