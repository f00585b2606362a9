"""Views of the messaging blueprint."""
from urllib.parse import quote

from flask import jsonify, redirect, request, send_from_directory, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from ..extensions import db
from ..models import User
from ..services import direct as direct_service
from ..services import rooms as room_service
from ..services import uploads as upload_service
from ..services.errors import ServiceError
from .blueprint import bp

# Served pictures never change (a new upload gets a new id and file): browsers keep them,
# privately, since who may see one depends on who asks.
UPLOAD_MAX_AGE = 365 * 24 * 3600
# A served file is inert: no scripts, styles or frames, even if opened directly.
UPLOAD_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"


def _logged_in() -> User:
    if not current_user.is_authenticated:
        raise ServiceError("unauthorized", _("Log in first."))
    return current_user._get_current_object()


@bp.post("/rooms/<slug>/uploads")
def upload(slug: str):
    """Store one picture or file (multipart field `file`; CSRF token in X-CSRFToken) for a later `send`; answer JSON."""
    user = _logged_in()
    room = room_service.get_room(slug)
    upload_service.ensure_can_upload(uploader=user, room=room)
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge:
        raise upload_service.file_too_large_error(request.content_length) from None
    if upload is None:
        raise ServiceError("invalid", _("Choose a picture to upload (the form field is named 'file')."))
    data = upload.stream.read(upload_service.max_request_bytes())
    stored = upload_service.store_upload(uploader=user, room=room, data=data, filename=upload.filename)
    return jsonify(ok=True, attachment=stored.attachment.to_dict(), note=stored.note), 201


def _download_disposition(servable: upload_service.Servable, *, inline: bool) -> str:
    """Content-Disposition with the uploader's own name (RFC 6266's filename*) and an ASCII fallback."""
    return f"{'inline' if inline else 'attachment'}; filename=\"{servable.filename}\"; filename*=UTF-8''" + quote(
        servable.name, safe=""
    )


@bp.get("/uploads/<int:attachment_id>/<variant>")
def serve_upload(attachment_id: int, variant: str):
    """A picture, its thumbnail or a file, to those who may read its message; with headers that keep it inert."""
    user = _logged_in()
    servable = upload_service.open_attachment(viewer=user, attachment_id=attachment_id, variant=variant)
    picture = servable.kind == "image"
    response = send_from_directory(
        servable.folder, servable.path, mimetype=servable.mime, download_name=servable.filename,
        as_attachment=False, max_age=UPLOAD_MAX_AGE, conditional=True,
    )
    if not picture:
        response.headers["Content-Type"] = servable.mime  # a text's own charset, not one added to it
        # Only the page's <audio> and <video> players open a file in place; anything else is saved.
        response.headers["Content-Disposition"] = _download_disposition(
            servable, inline=servable.kind in ("audio", "video")
        )
    response.cache_control.public = False
    response.cache_control.private = True
    response.cache_control.immutable = True
    response.headers["Content-Security-Policy"] = UPLOAD_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@bp.post("/direct/<int:user_id>")
@login_required
def open_direct(user_id: int):
    """Go to the direct conversation with this person (the member list's "Message" button)."""
    other = db.session.get(User, user_id)
    room = direct_service.open_direct_room(user=current_user, other=other)
    return redirect(url_for("rooms.room", slug=room.slug))
