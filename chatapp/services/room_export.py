"""A room's whole history as one download: a zip that reads offline (index.html), JSON files for
programs (messages.json; homework.json, a class's assignments with their hand-ins and comments), and
the pictures and files (files/, handed-in files too). For a class's moderators, at the end
of term or whenever they want a record.

A moderator asks (request_export); the export row and its outbox job are stored in one COMMIT, and
a worker (chatapp/worker.py, one job at a time per export: its lease) writes the zip in batches of
EXPORT_BATCH messages, committing its progress after each, so that the page shows "3,000 of 10,000"
and the chat stays live meanwhile (no long transaction, no write lock held). The zip is written to
a name of its own and renamed when whole: a worker killed halfway leaves a partial file that the
next try ignores and overwrites, never a broken download. The zips live in EXPORT_FOLDER (default
instance/exports), outside the web root; only the room's moderators download them.
"""
from __future__ import annotations

import json
import os
import secrets
import zipfile
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Assignment, Attachment, HandIn, Message, Room, RoomExport, User, isoformat_utc, utcnow
from .errors import ServiceError
from .moderation import commit_logged, ensure_can_moderate, log_action
from .outbox import enqueue, handler
from .uploads import upload_folder

KIND = "room_export"
EXPORT_BATCH = 500
# How many of a room's exports its page lists (newest first).
LISTED = 10


def export_folder() -> Path:
    """Where the zips are kept: EXPORT_FOLDER, else instance/exports."""
    folder = Path(current_app.config.get("EXPORT_FOLDER") or os.path.join(current_app.instance_path, "exports"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def ensure_can_export(*, actor: User, room: Room) -> None:
    """Raise unless actor may export room's history: its moderators (an archived room's too)."""
    ensure_can_moderate(user=actor, room=room, reading=True)


def request_export(*, actor: User, room: Room) -> RoomExport:
    """Start an export of room's history, or answer the one already under way (one at a time per room)."""
    ensure_can_export(actor=actor, room=room)
    running = db.session.scalar(
        db.select(RoomExport).where(RoomExport.room_id == room.id, RoomExport.state.in_(("queued", "running")))
        .order_by(RoomExport.id.desc()).limit(1)
    )
    if running is not None:
        return running
    export = RoomExport(room_id=room.id, requested_by_id=actor.id, state="queued")
    db.session.add(export)
    db.session.flush()
    enqueue(KIND, {"export_id": export.id}, subject=f"room:{room.id}")
    commit_logged(log_action(room=room, actor=actor, action="export", export_id=export.id))
    return export


def list_exports(*, actor: User, room: Room) -> list[RoomExport]:
    """The room's latest exports, newest first (moderators only)."""
    ensure_can_export(actor=actor, room=room)
    return list(db.session.scalars(
        db.select(RoomExport).where(RoomExport.room_id == room.id).order_by(RoomExport.id.desc()).limit(LISTED)
    ))


def get_export(*, actor: User, room: Room, export_id: int) -> RoomExport:
    """One export of room, for its moderators; another room's or an unknown one is not found."""
    ensure_can_export(actor=actor, room=room)
    export = db.session.get(RoomExport, export_id)
    if export is None or export.room_id != room.id:
        raise ServiceError("not_found", _("There is no such export of this room."))
    return export


def export_file(*, actor: User, room: Room, export_id: int) -> tuple[Path, str]:
    """The finished zip of an export and the name to download it as."""
    export = get_export(actor=actor, room=room, export_id=export_id)
    if export.state != "done" or not export.path:
        raise ServiceError("conflict", _("This export is not ready yet: wait until it says it is done."))
    path = export_folder() / export.path
    if not path.is_file():
        raise ServiceError("not_found", _("This export's file is gone: start a new export."))
    stamp = export.finished_at.strftime("%Y-%m-%d") if export.finished_at else ""
    return path, f"{room.name} {stamp}.zip".strip()


# ---- the worker's side -----------------------------------------------------------------------


def _attachment_entry(attachment: Attachment) -> str:
    """Where an attachment sits in the zip: files/<id>-<its cleaned name>."""
    return f"files/{attachment.id}-{attachment.filename}"


def _for_archive(message: Message) -> dict:
    """A message as the archive holds it: the MESSAGE shape, its attachments pointing into files/, a poll's counts."""
    data = message.to_dict()
    if message.poll is not None:  # the archive is for moderators, who always see a poll's counts
        data["poll"] = message.poll.to_dict(with_counts=True)
    by_id = {attachment.id: attachment for attachment in message.attachments}
    for shown in data.get("attachments", []):
        entry = _attachment_entry(by_id[shown["id"]])
        shown["file"] = entry
        for key in ("url", "thumb_url", "preview_url"):
            shown.pop(key, None)
    return data


def _homework(room_id: int) -> tuple[list[dict], list[Attachment]]:
    """The room's assignments, each with every student's hand-in and the teacher's comment (homework.json),
    and the handed-in files."""
    assignments = db.session.scalars(
        db.select(Assignment).where(Assignment.room_id == room_id).order_by(Assignment.due_at, Assignment.id))
    shown, files = [], []
    for assignment in assignments:
        hand_ins = list(db.session.scalars(
            db.select(HandIn).where(HandIn.assignment_id == assignment.id).order_by(HandIn.id)))
        files += [row.attachment for hand_in in hand_ins for row in hand_in.file_rows]
        shown.append({
            **assignment.to_dict(), "message_id": assignment.message_id, "instructions": assignment.instructions,
            "hand_ins": [{
                "user": hand_in.user.to_dict(), "text": hand_in.text, "late": bool(hand_in.late),
                "submitted_at": isoformat_utc(hand_in.submitted_at), "comment": hand_in.comment, "mark": hand_in.mark,
                "files": [{"name": row.attachment.display_name, "file": _attachment_entry(row.attachment)}
                          for row in hand_in.file_rows],
            } for hand_in in hand_ins],
        })
    return shown, files


def _batches(room_id: int):
    after = 0
    while True:
        batch = list(db.session.scalars(
            db.select(Message).where(Message.room_id == room_id, Message.id > after, Message.internal.is_(False))
            .order_by(Message.id).limit(EXPORT_BATCH)
        ))
        if not batch:
            return
        yield batch
        after = batch[-1].id


@handler(KIND, max_attempts=3, title=_l("Room export"),
         on_failed=lambda job: _failed(job.payload.get("export_id")))
def write_export(job) -> None:
    """Write one export's zip (a retry after a dead worker starts again from the first message)."""
    export = db.session.get(RoomExport, int(job.payload["export_id"]))
    if export is None or export.state == "done":
        return  # the room is gone, or another try finished it
    room = export.room
    language = export.requested_by.language if export.requested_by else None
    export.state = "running"
    export.done = 0
    export.total = db.session.scalar(
        db.select(db.func.count(Message.id)).where(Message.room_id == room.id, Message.internal.is_(False))
    ) or 0
    db.session.commit()
    folder = export_folder()
    for stale in folder.glob(f"{export.id}-*.part"):  # a try that died halfway
        stale.unlink(missing_ok=True)
    name = f"{export.id}-{secrets.token_hex(12)}.zip"
    partial = folder / f"{name}.part"
    uploads = upload_folder()
    # The page and the JSON are written beside the zip as they grow (a zip takes one entry at a
    # time, and the files go in meanwhile), then put in whole.
    html_path, json_path = folder / f"{name}.html.part", folder / f"{name}.json.part"
    try:
        with force_locale(language or "en"), zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            context = {"room": room, "exported_at": utcnow(), "language": language or "en", "total": export.total}
            with html_path.open("wb") as html, json_path.open("wb") as data:
                html.write(render_template("archive/head.html", **context).encode())
                data.write(json.dumps({"room": room.to_dict(), "exported_at": isoformat_utc(context["exported_at"]),
                                       "messages": []}, ensure_ascii=False)[:-2].encode())
                first = True
                for batch in _batches(room.id):
                    for message in batch:
                        for attachment in message.attachments:
                            source = uploads / attachment.path
                            if source.is_file():
                                archive.write(source, _attachment_entry(attachment))
                        shown = json.dumps(_for_archive(message), ensure_ascii=False).encode()
                        data.write(shown if first else b"," + shown)
                        first = False
                    page = render_template("archive/messages.html", messages=batch, entry=_attachment_entry,
                                           shown_for_archive=_for_archive)
                    html.write(page.encode())
                    export.done += len(batch)
                    db.session.commit()  # the page's progress; nothing held between batches
                data.write(b"]}")
                homework, handed_in = _homework(room.id)
                for attachment in handed_in:
                    source = uploads / attachment.path
                    if source.is_file():
                        archive.write(source, _attachment_entry(attachment))
                html.write(render_template("archive/foot.html", homework=homework, **context).encode())
            archive.write(html_path, "index.html")
            archive.write(json_path, "messages.json")
            archive.writestr("homework.json", json.dumps({"assignments": homework}, ensure_ascii=False))
    finally:
        html_path.unlink(missing_ok=True)
        json_path.unlink(missing_ok=True)
    partial.rename(folder / name)
    export.path = name
    export.size = (folder / name).stat().st_size
    export.state = "done"
    export.finished_at = utcnow()
    db.session.commit()


def _failed(export_id: object) -> None:
    export = db.session.get(RoomExport, int(export_id)) if isinstance(export_id, int) else None
    if export is not None and export.state != "done":
        export.state = "failed"
        export.error = "the export could not be written"
        db.session.commit()
