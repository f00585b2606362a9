"""Files that are not pictures: told by their content, stored, sent, served as downloads, counted against a quota."""
from __future__ import annotations

import hashlib
import io
import zipfile
from urllib.parse import quote

import pypdfium2
import pytest
from PIL import Image

from chatapp.extensions import db
from chatapp.models import Attachment

from .test_uploads import Uploader, picture, send, uploaded

DOCX_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)


def pdf(*, size: tuple[int, int] = (200, 100), content: bytes = b"", trailer: bytes = b"") -> bytes:
    """A small, valid one-page PDF, written by hand (its cross-reference table points at each object).

    size: the page in points; content: its content stream (drawing operators); trailer: more trailer entries.
    """
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents 4 0 R /Resources << >> >>" % size,
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, xref)
    return bytes(out)


# A red square on the left half of the page: what its preview must show.
RED_SQUARE = b"1 0 0 rg 0 0 100 100 re f"


def _rc4(key: bytes, data: bytes) -> bytes:
    state, j = list(range(256)), 0
    for i in range(256):
        j = (j + state[i] + key[i % len(key)]) % 256
        state[i], state[j] = state[j], state[i]
    out, i, j = bytearray(), 0, 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + state[i]) % 256
        state[i], state[j] = state[j], state[i]
        out.append(byte ^ state[(state[i] + state[j]) % 256])
    return bytes(out)


def encrypted_pdf() -> bytes:
    """A PDF with an owner password and an empty user password (PDF 1.4's standard security handler,
    revision 2): any reader opens it, yet it is encrypted. Its page is empty, so nothing needs decrypting."""
    pad = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")
    file_id, permissions = b"0123456789abcdef", -44
    owner = _rc4(hashlib.md5((b"owner-secret" + pad)[:32]).digest()[:5], pad)
    key = hashlib.md5(pad + owner + permissions.to_bytes(4, "little", signed=True) + file_id).digest()[:5]
    user = _rc4(key, pad)
    encrypt = b"/Encrypt << /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P %d >> /ID [<%s> <%s>] " % (
        owner.hex().encode(), user.hex().encode(), permissions, file_id.hex().encode(), file_id.hex().encode()
    )
    return pdf(trailer=encrypt)


def docx(content_types: str | None = DOCX_TYPES) -> bytes:
    """A Word document as a zip with its [Content_Types].xml (or, without it, a plain zip)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        if content_types is not None:
            archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def refusal(response, status: int = 400) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["ok"] is False
    return body["message"]


@pytest.fixture
def alice_up(app, users, public_room):
    return Uploader(app, "alice")


def count_attachments(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(Attachment.id)))


# -- accepted -------------------------------------------------------------------------------


def test_a_real_pdf_is_accepted_and_downloads_with_safe_headers(app, alice_up):
    data = pdf()
    attachment = uploaded(alice_up.upload(data, filename="Lesson plan.pdf"))
    assert attachment == {
        "id": attachment["id"], "kind": "file", "url": f"/uploads/{attachment['id']}/full",
        "mime": "application/pdf", "size": len(data), "name": "Lesson plan.pdf", "filename": "Lesson_plan.pdf",
        # Additions: its first page (200×100 points) drawn within the thumbnails' 320×320.
        "preview_url": f"/uploads/{attachment['id']}/preview", "preview_width": 320, "preview_height": 160,
    }
    response = alice_up.fetch(attachment["url"])
    assert response.status_code == 200 and response.data == data
    headers = response.headers
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"] == (
        "attachment; filename=\"Lesson_plan.pdf\"; filename*=UTF-8''Lesson%20plan.pdf"
    )
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'; sandbox"
    assert "private" in headers["Cache-Control"] and "public" not in headers["Cache-Control"]
    # A file has no thumbnail.
    assert alice_up.fetch(f"/uploads/{attachment['id']}/thumb").status_code == 404


def test_a_docx_made_of_the_right_parts_is_accepted(alice_up):
    attachment = uploaded(alice_up.upload(docx(), filename="essay.docx"))
    assert attachment["mime"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert attachment["kind"] == "file"


def test_an_odt_naming_its_kind_is_accepted_and_a_spreadsheet_named_odt_is_not(alice_up):
    def odf(mimetype: str) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("mimetype", mimetype)
            archive.writestr("content.xml", "<office:document-content/>")
        return out.getvalue()

    text = uploaded(alice_up.upload(odf("application/vnd.oasis.opendocument.text"), filename="story.odt"))
    assert text["mime"] == "application/vnd.oasis.opendocument.text"
    message = refusal(alice_up.upload(odf("application/vnd.oasis.opendocument.spreadsheet"), filename="story.odt"))
    assert message == (
        "This file is not an OpenDocument text: its content is an OpenDocument spreadsheet. Send the real file."
    )


@pytest.mark.parametrize(
    "data, filename, mime",
    [
        ("名字,分数\n小明,95\n".encode("gbk"), "成绩.csv", "text/csv; charset=gbk"),
        ("名字,分数\n小明,95\n".encode(), "scores.csv", "text/csv; charset=utf-8"),
        (b"# Notes\n\nBring a pencil.\n", "notes.md", "text/markdown; charset=utf-8"),
        (b"Homework: page 12.\n", "homework.txt", "text/plain; charset=utf-8"),
    ],
)
def test_text_in_utf8_or_chinese_gbk_is_accepted(alice_up, data, filename, mime):
    attachment = uploaded(alice_up.upload(data, filename=filename))
    assert attachment["mime"] == mime and attachment["name"] == filename
    response = alice_up.fetch(attachment["url"])
    assert response.data == data and response.headers["Content-Type"] == mime
    assert response.headers["Content-Disposition"].endswith("filename*=UTF-8''" + quote(filename))


def test_audio_and_video_are_told_apart_and_play_inline(alice_up):
    wav = b"RIFF" + (36).to_bytes(4, "little") + b"WAVEfmt " + b"\x10\x00\x00\x00\x01\x00\x01\x00" + b"\x00" * 16
    audio = uploaded(alice_up.upload(wav, filename="song.wav"))
    assert audio["kind"] == "audio" and audio["mime"] == "audio/wav"
    mp4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64
    video = uploaded(alice_up.upload(mp4, filename="clip.mp4"))
    assert video["kind"] == "video" and video["mime"] == "video/mp4"
    # The page's <audio>/<video> play them; a download still gets the real name.
    assert alice_up.fetch(video["url"]).headers["Content-Disposition"].startswith("inline; ")


def test_the_stored_name_is_cleaned_of_paths_controls_and_bidi_tricks(alice_up):
    hostile = "..\\..\\C:/Users/x/\u202eevil\x07 report" + "x" * 300 + ".pdf"
    attachment = uploaded(alice_up.upload(pdf(), filename=hostile))
    name = attachment["name"]
    assert "/" not in name and "\\" not in name and "\u202e" not in name and "\x07" not in name
    assert name.startswith("evil report") and name.endswith(".pdf") and len(name) <= 120


# -- a PDF's preview ------------------------------------------------------------------------


def test_a_pdf_gets_a_preview_of_its_first_page_served_like_a_thumbnail(app, alice_up):
    attachment = uploaded(alice_up.upload(pdf(content=RED_SQUARE), filename="Worksheet.pdf"))
    response = alice_up.fetch(attachment["preview_url"])
    assert response.status_code == 200
    headers = response.headers
    assert headers["Content-Type"] == "image/png"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'; sandbox"
    assert "private" in headers["Cache-Control"] and "immutable" in headers["Cache-Control"]
    assert headers["Content-Disposition"].startswith("inline; ")  # a picture to show, not the PDF to save
    image = Image.open(io.BytesIO(response.data))
    assert image.format == "PNG" and image.size == (attachment["preview_width"], attachment["preview_height"])
    # The page drawn: the red square on its left half, white beside it.
    assert image.convert("RGB").getpixel((80, 80)) == (255, 0, 0)
    assert image.convert("RGB").getpixel((240, 80)) == (255, 255, 255)
    # Made once, at upload, and kept beside the file outside the web root.
    with app.app_context():
        from chatapp.services import uploads

        row = db.session.get(Attachment, attachment["id"])
        assert (uploads.upload_folder() / row.thumb_path).read_bytes() == response.data
    # A PDF still has no thumbnail (clients that know only pictures never take it for one), and a
    # picture no preview.
    assert alice_up.fetch(f"/uploads/{attachment['id']}/thumb").status_code == 404
    assert "thumb_url" not in attachment
    photo = uploaded(alice_up.upload(picture(), filename="cat.png"))
    assert alice_up.fetch(f"/uploads/{photo['id']}/preview").status_code == 404


def test_a_tall_page_fits_the_box_too(alice_up):
    attachment = uploaded(alice_up.upload(pdf(size=(595, 842)), filename="a4.pdf"))  # A4 portrait
    assert attachment["preview_height"] == 320 and 225 <= attachment["preview_width"] <= 227


def _no_preview(alice_up, data: bytes, filename: str = "notes.pdf") -> dict:
    attachment = uploaded(alice_up.upload(data, filename=filename))
    assert attachment["mime"] == "application/pdf" and attachment["size"] == len(data)
    assert not {"preview_url", "preview_width", "preview_height"} & set(attachment)
    assert alice_up.fetch(f"/uploads/{attachment['id']}/preview").status_code == 404
    assert alice_up.fetch(attachment["url"]).data == data  # the PDF itself is there all the same
    return attachment


def test_a_broken_pdf_is_still_sent_without_a_preview(app, socket_for, alice_up):
    broken = b"%PDF-1.4\n" + b"this is not really a PDF body \x00\xff" * 20
    attachment = _no_preview(alice_up, broken, "broken.pdf")
    ack = send(socket_for("alice"), attachments=[attachment["id"]])
    assert ack["message"]["attachments"] == [attachment]
    html = Uploader(app, "bob").client.get("/rooms/lobby").get_data(as_text=True)
    assert 'class="file-card"' in html and 'class="file-preview"' not in html


def test_an_encrypted_pdf_is_not_rendered(alice_up):
    assert pypdfium2.PdfDocument(encrypted_pdf())  # readable without a password: left alone all the same
    _no_preview(alice_up, encrypted_pdf())


@pytest.mark.parametrize("size", [(20000, 100), (100, 14401), (14000, 1)], ids=["wide", "tall", "a-sliver"])
def test_pages_too_large_or_of_no_size_are_not_rendered(alice_up, size):
    _no_preview(alice_up, pdf(size=size))


def test_a_pdf_over_the_preview_size_limit_is_not_rendered(app, alice_up):
    app.config["PDF_PREVIEW_MAX_BYTES"] = 1024
    _no_preview(alice_up, pdf(content=RED_SQUARE) + b"%" * 2048)


def test_a_renderer_that_fails_loses_only_the_preview(alice_up, monkeypatch):
    def crash(*args, **kwargs):
        raise MemoryError("PDFium ran out of memory")

    monkeypatch.setattr(pypdfium2, "PdfDocument", crash)
    _no_preview(alice_up, pdf(content=RED_SQUARE))


def test_only_those_who_may_read_the_pdf_see_its_preview(app, socket_for, users, private_room):
    unsent = uploaded(Uploader(app, "alice").upload(pdf(), room="secret", filename="plan.pdf"))
    sent_one = uploaded(Uploader(app, "alice").upload(pdf(), room="secret", filename="plan.pdf"))
    send(socket_for("alice"), room="secret", attachments=[sent_one["id"]])
    for who, unsent_status, sent_status in [("alice", 200, 200), ("staff", 404, 200), ("bob", 404, 403),
                                            (None, 401, 401)]:
        viewer = Uploader(app, who)
        assert viewer.fetch(unsent["preview_url"]).status_code == unsent_status, who
        assert viewer.fetch(sent_one["preview_url"]).status_code == sent_status, who


def test_the_card_shows_the_first_page_in_the_readers_language(app, socket_for, alice_up, users):
    attachment = uploaded(alice_up.upload(pdf(content=RED_SQUARE), filename="Plan <i>one.pdf"))
    send(socket_for("alice"), body="Read this", attachments=[attachment["id"]])
    bob = Uploader(app, "bob")
    html = bob.client.get("/rooms/lobby").get_data(as_text=True)
    assert (
        f'<a class="file-preview" href="{attachment["url"]}" download="Plan &lt;i&gt;one.pdf">\n'
        f'        <img src="{attachment["preview_url"]}" width="320" height="160" '
        'alt="First page of Plan &lt;i&gt;one.pdf" loading="lazy">'
    ) in html
    chinese = bob.client.get("/rooms/lobby", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert 'alt="Plan &lt;i&gt;one.pdf 的第一页"' in chinese


# -- refused --------------------------------------------------------------------------------


def test_html_named_pdf_is_refused_saying_what_it_really_is(app, alice_up):
    message = refusal(alice_up.upload(b"<!DOCTYPE html><html><script>alert(1)</script></html>", filename="report.pdf"))
    assert message == "This file is not a PDF: its content is HTML. Send the real file."
    assert count_attachments(app) == 0


def test_the_refusal_is_in_the_users_language(app, users, public_room):
    chinese = Uploader(app, "alice")
    response = chinese.client.post(
        "/rooms/lobby/uploads", data={"file": (io.BytesIO(b"<html></html>"), "report.pdf")},
        headers={"X-CSRFToken": chinese.token, "Accept-Language": "zh-CN"}, content_type="multipart/form-data",
    )
    message = refusal(response)
    assert "PDF" in message and "HTML" in message and "This file" not in message


@pytest.mark.parametrize(
    "data",
    [
        b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120,
        b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120,
        b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + b"\x00" * 120,
        b"#!/bin/sh\nrm -rf ~\n",
    ],
    ids=["elf", "pe", "mach-o", "script"],
)
def test_programs_and_scripts_renamed_txt_are_refused(app, alice_up, data):
    message = refusal(alice_up.upload(data, filename="readme.txt"))
    assert message.startswith("This file is not a text file: its content is a program")
    assert count_attachments(app) == 0


@pytest.mark.parametrize(
    "data, filename, found",
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "notes.txt", "SVG"),
        (b'<?xml version="1.0"?><note/>', "notes.md", "XML"),
        (b"<html><body>hi</body></html>", "notes.csv", "HTML"),
    ],
)
def test_markup_renamed_as_text_is_refused(alice_up, data, filename, found):
    assert f"its content is {found}" in refusal(alice_up.upload(data, filename=filename))


@pytest.mark.parametrize("filename", ["page.html", "drawing.svg", "app.js", "setup.exe", "data.xml"])
def test_refused_kinds_by_name_are_refused_listing_what_is_accepted(alice_up, filename):
    message = refusal(alice_up.upload(b"hello", filename=filename))
    extension = filename.rsplit(".", 1)[1]
    assert message.startswith(f"Files ending in .{extension} cannot be sent.") and "PDF" in message


def test_a_plain_zip_renamed_docx_is_refused(alice_up):
    message = refusal(alice_up.upload(docx(content_types=None), filename="essay.docx"))
    assert message == "This file is not a Word document: its content is a ZIP archive. Send the real file."
    # Named .zip, the same bytes are fine.
    assert uploaded(alice_up.upload(docx(content_types=None), filename="essay.zip"))["mime"] == "application/zip"


def test_unknown_binary_and_undecodable_text_are_refused(alice_up):
    assert "its content is of a kind chatapp does not accept" in refusal(
        alice_up.upload(b"\x00\x01\x02garbage\xff" * 10, filename="notes.txt")
    )
    assert "is empty" in refusal(alice_up.upload(b"", filename="notes.txt"))


def test_a_picture_named_pdf_is_refused(alice_up):
    message = refusal(alice_up.upload(picture(), filename="scan.pdf"))
    assert message == "This file is not a PDF: its content is a picture. Send the real file."


def test_a_file_over_the_limit_is_refused_with_the_limit(app, alice_up):
    app.config["FILE_MAX_BYTES"] = 1024 * 1024
    data = pdf() + b"%" * (1024 * 1024)
    message = refusal(alice_up.upload(data, filename="big.pdf"), status=413)
    assert message == "A file can be at most 1 MB; this one is 1.0 MB. Choose a smaller one, or share a link to it."


def test_a_file_larger_than_pictures_may_be_is_accepted(app, alice_up):
    data = pdf() + b"%" * (app.config["UPLOAD_MAX_BYTES"] + 10)
    assert uploaded(alice_up.upload(data, filename="big.pdf"))["size"] == len(data)


def test_a_request_over_the_file_limit_is_refused_before_it_is_read(app, alice_up):
    response = alice_up.upload(b"\x00" * (app.config["FILE_MAX_BYTES"] + 2 * 1024 * 1024), filename="huge.pdf")
    assert refusal(response, status=413).startswith("A file can be at most 25 MB")


def test_over_quota_is_refused_saying_what_is_used_and_what_to_do(app, alice_up):
    first = pdf() + b"%" * (600 * 1024)
    uploaded(alice_up.upload(first, filename="one.pdf"))
    app.config["UPLOAD_QUOTA_BYTES"] = 1024 * 1024
    message = refusal(alice_up.upload(first, filename="two.pdf"), status=413)
    assert message == (
        "You have 0.6 MB of your 1 MB stored; this file needs 0.6 MB more. Uploads you did not send are cleared "
        "after a day; ask an admin to remove files you no longer need, or share a link instead."
    )
    # Pictures count against the same quota, and someone else's uploads do not.
    with app.app_context():
        used = db.session.scalar(db.select(db.func.sum(Attachment.size)))
    app.config["UPLOAD_QUOTA_BYTES"] = used + 100
    assert refusal(alice_up.upload(picture(), filename="big.png"), status=413).startswith("You have")
    uploaded(Uploader(app, "bob").upload(first, filename="bobs.pdf"))


# -- who may fetch, and how it is shown -------------------------------------------------------


def test_only_those_who_may_read_the_message_download_it(app, socket_for, users, private_room):
    unsent = uploaded(Uploader(app, "alice").upload(pdf(), room="secret", filename="plan.pdf"))
    sent_one = uploaded(Uploader(app, "alice").upload(pdf(), room="secret", filename="plan.pdf"))
    ack = send(socket_for("alice"), room="secret", attachments=[sent_one["id"]])
    assert ack["message"]["attachments"] == [sent_one]
    for who, unsent_status, sent_status in [("alice", 200, 200), ("staff", 404, 200), ("bob", 404, 403),
                                            (None, 401, 401)]:
        viewer = Uploader(app, who)
        assert viewer.fetch(unsent["url"]).status_code == unsent_status, who
        assert viewer.fetch(sent_one["url"]).status_code == sent_status, who


def test_the_page_shows_a_file_card_with_the_name_as_text(app, socket_for, alice_up, users):
    hostile = "<img src=x onerror=alert(1)>.pdf"
    attachment = uploaded(alice_up.upload(pdf(), filename=hostile))
    send(socket_for("alice"), attachments=[attachment["id"]])
    html = Uploader(app, "bob").client.get("/rooms/lobby").get_data(as_text=True)
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in html
    assert f'href="{attachment["url"]}"' in html and 'class="file-card"' in html
    assert f"PDF · {attachment['size']} bytes" in html


def test_the_page_plays_audio_in_the_browsers_player(app, socket_for, alice_up, users):
    wav = b"RIFF" + (36).to_bytes(4, "little") + b"WAVEfmt " + b"\x10\x00\x00\x00\x01\x00\x01\x00" + b"\x00" * 16
    attachment = uploaded(alice_up.upload(wav, filename="song.wav"))
    send(socket_for("alice"), attachments=[attachment["id"]])
    html = Uploader(app, "bob").client.get("/rooms/lobby").get_data(as_text=True)
    assert f'<audio controls preload="none" src="{attachment["url"]}"' in html


def test_pictures_keep_their_shape_and_gain_only_kind_and_name(alice_up):
    attachment = uploaded(alice_up.upload(picture(), filename="cat.png"))
    assert set(attachment) == {"id", "url", "thumb_url", "width", "height", "thumb_width", "thumb_height", "mime",
                               "size", "filename", "kind", "name"}
    assert attachment["kind"] == "image" and attachment["name"] == "cat.png"


def test_unsent_files_are_pruned_like_pictures(app, alice_up):
    from datetime import timedelta

    from chatapp.models import utcnow
    from chatapp.services import uploads

    stale = uploaded(alice_up.upload(pdf(), filename="old.pdf"))
    with app.app_context():
        row = db.session.get(Attachment, stale["id"])
        row.created_at = utcnow() - timedelta(days=2)
        db.session.commit()
        path, preview = uploads.upload_folder() / row.path, uploads.upload_folder() / row.thumb_path
        assert path.exists() and preview.exists()
        assert uploads.prune_unsent_uploads(older_than=timedelta(days=1)) == 1
        assert not path.exists() and not preview.exists()
