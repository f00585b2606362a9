"""Pictures and files: checked by their bytes, stored, sent, served; pictures re-encoded without metadata.

The type comes from what Pillow finds in the bytes (only PNG, JPEG, GIF and WebP decoders are
even tried), never from the file name or the browser's Content-Type. Every picture is decoded
and encoded anew, which drops EXIF (camera, GPS position), XMP, comments and colour profiles,
and anything a crafted file carried besides its pixels.

Other files (PDF, office documents, text, ZIP, audio, video) are checked by `filetypes.sniff_file`
and stored as sent; a PDF gets a preview of its first page (`pdf_preview`), kept like a picture's
thumbnail. Every upload counts against its uploader's UPLOAD_QUOTA_BYTES.
"""
from __future__ import annotations

import io
import os
import secrets
import warnings
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import filetype
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, ImageSequence
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.utils import secure_filename

from ..extensions import db
from ..models import Attachment, HandInFile, Message, Room, User, utcnow
from .errors import ServiceError
from .filetypes import ACCEPTED, clean_display_name, extension_of, sniff_file
from .moderation import is_moderator
from .pdf_preview import PREVIEW_EXTENSION, PREVIEW_MIME, render_first_page
from .ratelimit import check_rate
from .rooms import can_see_notes, ensure_can_enter, ensure_can_write
from .rows import rows_changed

# Pillow format name -> (MIME type, file extension).
FORMATS = {
    "PNG": ("image/png", "png"),
    "JPEG": ("image/jpeg", "jpg"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}
# The thumbnail's format: a static picture, so an animated GIF's first frame becomes a PNG.
THUMB_FORMAT = {"PNG": "PNG", "JPEG": "JPEG", "GIF": "PNG", "WEBP": "WEBP"}
THUMB_BOX = (320, 320)  # shown at up to 160 px, sharp on high-density screens
# All frames of an animation are held decoded while re-encoding it: beyond this many pixels
# in all, only the first frame is kept (and the uploader is told).
MAX_ANIMATION_PIXELS = 25_000_000
MAX_FRAMES = 500
NOT_A_PICTURE = _l("That file is not a picture chatapp accepts: send a PNG, JPEG, GIF or WebP image.")
VARIANTS = ("full", "thumb", "preview")  # preview: a PDF's first page (a picture's is its thumb)
PICTURE_EXTENSIONS = {"png", "jpg", "jpeg", "gif", "webp"}


@dataclass(frozen=True)
class Upload:
    """A stored upload, and a note for the uploader when something was dropped (an animation's frames)."""

    attachment: Attachment
    note: str | None = None


def accepted_types() -> str:
    """The composer's file input `accept`: what the server may take (it still judges every file by its bytes)."""
    pictures = [mime for mime, _extension in FORMATS.values()]
    return ",".join(pictures + [f".{extension}" for extension in sorted(PICTURE_EXTENSIONS | set(ACCEPTED))])


def upload_folder() -> Path:
    """Where pictures are kept: UPLOAD_FOLDER, else instance/uploads."""
    folder = current_app.config.get("UPLOAD_FOLDER") or os.path.join(current_app.instance_path, "uploads")
    return Path(folder)


def max_upload_bytes() -> int:
    """The largest picture file accepted, in bytes."""
    return int(current_app.config["UPLOAD_MAX_BYTES"])


def max_file_bytes() -> int:
    """The largest file that is not a picture accepted, in bytes."""
    return int(current_app.config["FILE_MAX_BYTES"])


def max_request_bytes() -> int:
    """The largest upload request read: the larger limit, and room for the form around it."""
    return max(max_upload_bytes(), max_file_bytes()) + 1024 * 1024


def megabytes(size: int) -> str:
    """A byte count as people read it: "5 MB", "5.2 MB"."""
    value = size / (1024 * 1024)
    return f"{value:.0f} MB" if value == int(value) else f"{value:.1f} MB"


def too_large_error(size: int | None = None) -> ServiceError:
    """The refusal of a file over UPLOAD_MAX_BYTES, saying the limit (and the size, when known)."""
    limit = max_upload_bytes()
    if size:
        message = _("A picture can be at most %(limit)s; this one is %(size)s. Choose a smaller one.",
                    limit=megabytes(limit), size=megabytes(size))
    else:
        message = _("A picture can be at most %(limit)s. Choose a smaller one.", limit=megabytes(limit))
    return ServiceError("too_large", message, limit=limit)


def file_too_large_error(size: int | None = None) -> ServiceError:
    """The refusal of a file over FILE_MAX_BYTES (or of a request too big to read), saying the limit."""
    limit = max_file_bytes()
    if size:
        message = _("A file can be at most %(limit)s; this one is %(size)s. Choose a smaller one, or share a link "
                    "to it.", limit=megabytes(limit), size=megabytes(size))
    else:
        message = _("A file can be at most %(limit)s. Choose a smaller one, or share a link to it.",
                    limit=megabytes(limit))
    return ServiceError("too_large", message, limit=limit)


def stored_bytes(*, uploader: User) -> int:
    """How many bytes of uploads (sent or not) uploader has stored."""
    total = db.session.scalar(
        db.select(db.func.coalesce(db.func.sum(Attachment.size), 0)).where(Attachment.uploader_id == uploader.id)
    )
    return int(total or 0)


def ensure_within_quota(*, uploader: User, size: int) -> None:
    """Raise too_large unless size more bytes keep uploader within UPLOAD_QUOTA_BYTES, saying what is used."""
    quota = int(current_app.config["UPLOAD_QUOTA_BYTES"])
    used = stored_bytes(uploader=uploader)
    if used + size <= quota:
        return
    raise ServiceError(
        "too_large",
        _("You have %(used)s of your %(quota)s stored; this file needs %(size)s more. Uploads you did not send are "
          "cleared after a day; ask an admin to remove files you no longer need, or share a link instead.",
          used=megabytes(used), quota=megabytes(quota), size=megabytes(size)),
        limit=quota,
    )


def is_picture_upload(data: bytes, filename: str | None) -> bool:
    """Whether an upload is judged as a picture: named like one, or not named like an accepted file and
    starting like a picture (Pillow then decides)."""
    extension = extension_of(filename)
    if extension in PICTURE_EXTENSIONS:
        return True
    if extension in ACCEPTED:
        return False
    guess = filetype.guess(data[:512])
    return guess is not None and guess.mime.startswith("image/")


def ensure_can_upload(*, uploader: User, room: Room) -> None:
    """Raise unless uploader may put pictures in room: whoever may write there, except in support conversations."""
    ensure_can_enter(user=uploader, room=room)
    ensure_can_write(user=uploader, room=room)
    if room.is_support:
        # The support widget shows text only; a picture a visitor cannot see helps nobody.
        raise ServiceError("forbidden", _("Pictures cannot be sent in support conversations."))


def clean_filename(filename: str | None, extension: str, fallback: str = "picture") -> str:
    """A safe, ASCII file name for Content-Disposition, ending in the sniffed type's extension."""
    stem = secure_filename(os.path.splitext(filename or "")[0])[:80] or fallback
    return f"{stem}.{extension}"


def _decode_check(data: bytes) -> None:
    """Raise unless data is a whole, undamaged picture of an allowed format and size in pixels."""
    max_pixels = int(current_app.config["UPLOAD_MAX_PIXELS"])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(FORMATS)) as probe:
                if probe.width * probe.height > max_pixels:
                    raise ServiceError(
                        "too_large",
                        _("That picture has too many pixels (%(width)d×%(height)d); at most %(million)d million are "
                          "accepted.", width=probe.width, height=probe.height, million=max_pixels // 1_000_000),
                    )
                probe.verify()
    except ServiceError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ServiceError("too_large", _("That picture has too many pixels to be shown safely.")) from None
    except Exception:  # noqa: BLE001 - whatever a decoder says about bad bytes, it is not a picture
        raise ServiceError("invalid", NOT_A_PICTURE) from None


def _without_metadata(image: Image.Image) -> Image.Image:
    """The image with nothing but what its pixels need (a palette's transparent colour)."""
    image.info = {key: value for key, value in image.info.items() if key in ("transparency",)}
    return image


def _encode(image: Image.Image, fmt: str) -> bytes:
    """Encode one frame in fmt, with no metadata."""
    out = io.BytesIO()
    image = _without_metadata(image)
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, format="JPEG", quality=88, optimize=True)
    elif fmt == "WEBP":
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if image.has_transparency_data else "RGB")
        image.save(out, format="WEBP", quality=88, method=4)
    elif fmt == "GIF":
        image.save(out, format="GIF")
    else:
        image.save(out, format="PNG")
    return out.getvalue()


def _encode_animation(image: Image.Image, fmt: str) -> bytes:
    """Re-encode every frame of an animated GIF or WebP, keeping timing and looping only."""
    frames, durations = [], []
    for frame in ImageSequence.Iterator(image):
        durations.append(int(frame.info.get("duration", 100)) or 100)
        frames.append(_without_metadata(frame.convert("RGBA")))  # convert() copies info: comments and all
    loop = int(image.info.get("loop", 0))
    out = io.BytesIO()
    first, rest = frames[0], frames[1:]
    if fmt == "GIF":
        first.save(out, format="GIF", save_all=True, append_images=rest, duration=durations, loop=loop, disposal=2)
    else:
        first.save(out, format="WEBP", save_all=True, append_images=rest, duration=durations, loop=loop, quality=85)
    return out.getvalue()


@dataclass(frozen=True)
class _Encoded:
    fmt: str
    data: bytes
    width: int
    height: int
    thumb: bytes
    thumb_fmt: str
    thumb_width: int
    thumb_height: int
    note: str | None


def reencode_picture(data: bytes) -> _Encoded:
    """Check data is a picture, then encode it anew (and a thumbnail) with no metadata."""
    _decode_check(data)
    note = None
    with Image.open(io.BytesIO(data), formats=list(FORMATS)) as image:
        fmt = image.format
        assert fmt is not None  # Image.open(formats=...) opens only those formats
        frames = getattr(image, "n_frames", 1)
        animated = fmt in ("GIF", "WEBP") and frames > 1
        if animated and (frames > MAX_FRAMES or frames * image.width * image.height > MAX_ANIMATION_PIXELS):
            animated = False
            note = "This animation is too long to keep: only its first frame was sent."
        if animated:
            encoded = _encode_animation(image, fmt)
            image.seek(0)
            first = _without_metadata(image.convert("RGBA"))
        else:
            image.seek(0)
            image.load()
            # A phone's photo is stored sideways with an EXIF note to turn it: turn the pixels,
            # since the note goes with the rest of the metadata.
            first = ImageOps.exif_transpose(image) if fmt == "JPEG" else image.copy()
            encoded = _encode(first.copy(), fmt)
        width, height = first.size
        thumb_fmt = THUMB_FORMAT[fmt]
        thumb = first.copy()
        thumb.thumbnail(THUMB_BOX, Image.Resampling.LANCZOS)
        thumb_data = _encode(thumb, thumb_fmt)
    return _Encoded(fmt, encoded, width, height, thumb_data, thumb_fmt, thumb.width, thumb.height, note)


def _write(folder: Path, name: str, data: bytes) -> None:
    """Write a file completely or not at all."""
    partial = folder / f".{name}.part"
    partial.write_bytes(data)
    os.replace(partial, folder / name)


def store_upload(*, uploader: User, room: Room, data: bytes, filename: str | None) -> Upload:
    """Check and store a picture or file uploaded into room; it waits, unsent, for a `send` that names it."""
    ensure_can_upload(uploader=uploader, room=room)
    check_rate(action="upload", key=uploader.id)
    if not is_picture_upload(data, filename):
        return Upload(attachment=store_file(uploader=uploader, room=room, data=data, filename=filename))
    if len(data) > max_upload_bytes():
        raise too_large_error(len(data))
    ensure_within_quota(uploader=uploader, size=len(data))
    if not data:
        raise ServiceError("invalid", _("That file is empty.") + " " + str(NOT_A_PICTURE))
    encoded = reencode_picture(data)
    mime, extension = FORMATS[encoded.fmt]
    thumb_mime, thumb_extension = FORMATS[encoded.thumb_fmt]
    folder = upload_folder()
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(18)
    path, thumb_path = f"{token}.{extension}", f"{token}-thumb.{thumb_extension}"
    _write(folder, path, encoded.data)
    _write(folder, thumb_path, encoded.thumb)
    attachment = Attachment(
        uploader_id=uploader.id, room_id=room.id, mime=mime, size=len(encoded.data),
        width=encoded.width, height=encoded.height,
        thumb_width=encoded.thumb_width, thumb_height=encoded.thumb_height, thumb_mime=thumb_mime,
        path=path, thumb_path=thumb_path, filename=clean_filename(filename, extension),
        name=clean_display_name(_picture_stem(filename) + "." + extension, extension),
    )
    _save(attachment, folder, path, thumb_path)
    return Upload(attachment=attachment, note=encoded.note)


def _picture_stem(filename: str | None) -> str:
    """A picture's name less its picture extension (it gets the sniffed format's)."""
    name = filename or ""
    return os.path.splitext(name)[0] if extension_of(name) in PICTURE_EXTENSIONS else name


def store_file(*, uploader: User, room: Room, data: bytes, filename: str | None) -> Attachment:
    """Check a file that is not a picture (its content matches its name, of an accepted kind) and store it as sent."""
    if len(data) > max_file_bytes():
        raise file_too_large_error(len(data))
    sniffed = sniff_file(data, filename)
    ensure_within_quota(uploader=uploader, size=len(data))
    folder = upload_folder()
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(18)
    path = f"{token}.{sniffed.extension}"
    _write(folder, path, data)
    attachment = Attachment(
        uploader_id=uploader.id, room_id=room.id, kind=sniffed.kind, mime=sniffed.mime, size=len(data), path=path,
        filename=clean_filename(filename, sniffed.extension, fallback="file"),
        name=clean_display_name(filename, sniffed.extension),
    )
    # Rendered once, here, and never per request; a PDF it fails for is still a PDF to send.
    preview = render_first_page(data, box=THUMB_BOX) if sniffed.mime == "application/pdf" else None
    if preview is not None:
        attachment.thumb_path = f"{token}-preview.{PREVIEW_EXTENSION}"
        attachment.thumb_mime = PREVIEW_MIME
        attachment.thumb_width, attachment.thumb_height = preview.width, preview.height
        _write(folder, attachment.thumb_path, preview.data)
    _save(attachment, folder, path, attachment.thumb_path)
    return attachment


def _save(attachment: Attachment, folder: Path, *paths: str | None) -> None:
    """Commit the attachment's row; if that fails, remove its files again."""
    db.session.add(attachment)
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        _remove_files(folder, *paths)
        raise


def _remove_files(folder: Path, *names: str | None) -> None:
    for name in names:
        if not name:
            continue
        try:
            (folder / name).unlink()
        except FileNotFoundError:
            pass


# -- sending ---------------------------------------------------------------------------


def check_attachment_ids(value: object) -> list[int]:
    """Return the `attachments` of a send as distinct ids (absent: none), or raise invalid."""
    if value is None:
        return []
    limit = int(current_app.config["MAX_ATTACHMENTS_PER_MESSAGE"])
    if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
        raise ServiceError("invalid", _("attachments is a list of upload ids."))
    if len(value) > limit:
        raise ServiceError("too_large", _("A message can carry at most %(max)d pictures.", max=limit), limit=limit)
    if len(set(value)) != len(value):
        raise ServiceError("invalid", _("attachments names the same upload twice."))
    return list(value)


def check_claimable(*, sender: User, room: Room, ids: list[int]) -> None:
    """Raise unless every id is a picture sender uploaded to room and has not sent yet."""
    if not ids:
        return
    rows = {row.id: row for row in db.session.scalars(db.select(Attachment).where(Attachment.id.in_(ids)))}
    for attachment_id in ids:
        row = rows.get(attachment_id)
        if row is None or row.uploader_id != sender.id:
            # Somebody else's upload answers as if it did not exist: ids reveal nothing.
            raise ServiceError("not_found", _("That picture is not there any more; upload it again."))
        if row.room_id != room.id:
            raise ServiceError("invalid", _("That picture was uploaded to another room; upload it again here."))
        if row.message_id is not None:
            raise ServiceError("conflict", _("That picture was sent already."))


def link_attachments(*, message: Message, ids: list[int]) -> None:
    """Attach the checked uploads to the (flushed, uncommitted) message; conflict if another send took one meanwhile."""
    if not ids:
        # None can point at a message flushed a moment ago: say so, rather than query for it.
        set_committed_value(message, "attachments", [])
        return
    linked = rows_changed(
        db.update(Attachment)
        .where(Attachment.id.in_(ids), Attachment.message_id.is_(None), Attachment.uploader_id == message.sender_id)
        .values(message_id=message.id)
    )
    if linked != len(ids):
        raise ServiceError("conflict", _("That picture was sent already."))


# -- serving ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Servable:
    """A stored file the viewer may see: where it is, its type and its download name."""

    folder: Path
    path: str
    mime: str
    filename: str
    name: str
    kind: str


def open_attachment(*, viewer: User, attachment_id: int, variant: str) -> Servable:
    """The file of an attachment, if viewer may see the message it belongs to (an unsent one: its uploader only)."""
    if variant not in VARIANTS:
        raise ServiceError("not_found", _("There is no such file."))
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        raise ServiceError("not_found", _("There is no such file."))
    if attachment.message_id is None:
        # Unsent: its uploader's, and a handed-in file (services/homework.py) also the class's teachers'.
        handed_in = db.session.scalar(db.select(HandInFile.id).filter_by(attachment_id=attachment.id)) is not None
        if attachment.uploader_id != viewer.id and not (handed_in and is_moderator(user=viewer,
                                                                                    room=attachment.room)):
            raise ServiceError("not_found", _("There is no such file."))
    else:
        message = db.session.get(Message, attachment.message_id)
        if message is None:  # the foreign key keeps this from happening
            raise ServiceError("not_found", _("There is no such file."))
        ensure_can_enter(user=viewer, room=message.room)
        if message.is_deleted or (message.internal and not can_see_notes(user=viewer, room=message.room)):
            raise ServiceError("not_found", _("There is no such file."))
    if variant in ("thumb", "preview"):
        # A picture has a thumbnail, a PDF may have a preview (its first page), nothing else has either.
        if (variant == "thumb") != (attachment.kind == "image"):
            raise ServiceError("not_found", _("There is no such file."))
        if attachment.thumb_path is None or attachment.thumb_mime is None:
            raise ServiceError("not_found", _("There is no such file."))
        if variant == "preview":
            stem = os.path.splitext(attachment.filename)[0]
            # Served as the picture it is (inline), not as the file it shows.
            return Servable(upload_folder(), attachment.thumb_path, attachment.thumb_mime,
                            f"preview-{stem}.{PREVIEW_EXTENSION}",
                            f"preview-{os.path.splitext(attachment.display_name)[0]}.{PREVIEW_EXTENSION}", "image")
        return Servable(upload_folder(), attachment.thumb_path, attachment.thumb_mime, "thumb-" + attachment.filename,
                        "thumb-" + attachment.display_name, attachment.kind)
    return Servable(upload_folder(), attachment.path, attachment.mime, attachment.filename, attachment.display_name,
                    attachment.kind)


def prune_unsent_uploads(*, older_than: timedelta) -> int:
    """Delete uploads never sent in a message (cancelled, or the tab closed) older than that; return how many."""
    cutoff = utcnow() - older_than
    stale = list(db.session.scalars(
        db.select(Attachment).where(Attachment.message_id.is_(None), Attachment.created_at < cutoff,
                                    Attachment.id.not_in(db.select(HandInFile.attachment_id)))
    ))
    folder = upload_folder()
    for attachment in stale:
        db.session.delete(attachment)
    db.session.commit()
    for attachment in stale:
        _remove_files(folder, attachment.path, attachment.thumb_path)
    return len(stale)
