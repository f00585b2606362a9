"""A PDF's first page as a small picture, for its file card: rendered once, at upload, by PDFium (pypdfium2).

The work is bounded before it starts: PDFs over PDF_PREVIEW_MAX_BYTES, encrypted ones (a password
or a security handler), pages larger than PDF_PREVIEW_MAX_PAGE_POINTS on a side or of no size are
not rendered, and the picture is drawn straight at the size shown (within the thumbnails' box), so
no page decodes into more pixels than that. Whatever goes wrong, there is simply no preview: the PDF
itself is stored and sent all the same. On green threads (eventlet, gevent) PDFium's C code runs in
an OS thread of the async library's pool, so a slow page holds up this upload only, never the
server's other connections.
"""
from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

import pypdfium2
import pypdfium2.raw as pdfium_c
from flask import current_app
from PIL import Image

from ..extensions import socketio

T = TypeVar("T")

PREVIEW_MIME = "image/png"
PREVIEW_EXTENSION = "png"
# PDFium keeps global state and is not thread-safe: one rendering at a time in the process
# (each takes milliseconds at this size).
_PDFIUM = threading.Lock()


@dataclass(frozen=True)
class Preview:
    """A rendered first page: PNG bytes and their size in pixels."""

    data: bytes
    width: int
    height: int


def render_first_page(data: bytes, *, box: tuple[int, int]) -> Preview | None:
    """The first page of a PDF drawn to fit box, or None when it is not to be rendered or cannot be."""
    if len(data) > int(current_app.config["PDF_PREVIEW_MAX_BYTES"]):
        return None
    try:
        with _PDFIUM:
            image = _off_the_loop(_render, data, box=box,
                                  max_points=float(current_app.config["PDF_PREVIEW_MAX_PAGE_POINTS"]))
    except Exception as error:  # noqa: BLE001 - a damaged or hostile PDF only loses its preview
        current_app.logger.info("no preview for a PDF: %r", error)
        return None
    if image is None:
        return None
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return Preview(out.getvalue(), image.width, image.height)


def _off_the_loop(work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run work in an OS thread when the server runs on green threads (ctypes lets go of the GIL), else here."""
    mode = current_app.config.get("SOCKETIO_ASYNC_MODE") or socketio.server.async_mode
    if mode == "eventlet":
        from eventlet import tpool

        return tpool.execute(work, *args, **kwargs)
    if mode == "gevent":
        import gevent

        return gevent.get_hub().threadpool.apply(work, args, kwargs)
    return work(*args, **kwargs)


def _render(data: bytes, *, box: tuple[int, int], max_points: float) -> Image.Image | None:
    """Open the PDF and draw its first page within box; None for what is refused (encrypted, odd sizes)."""
    document = pypdfium2.PdfDocument(data)  # raises PdfiumError for a broken file or a user password
    try:
        # -1: no security handler. Anything else is encrypted (an owner password at least): left alone.
        if pdfium_c.FPDF_GetSecurityHandlerRevision(document) != -1 or len(document) < 1:
            return None
        page = document[0]
        try:
            width, height = page.get_size()  # in points (1/72 inch), rotation applied
            if not (1 <= width <= max_points and 1 <= height <= max_points):
                return None
            scale = min(box[0] / width, box[1] / height)
            if round(width * scale) < 1 or round(height * scale) < 1:
                return None
            bitmap = page.render(scale=scale, may_draw_forms=False, fill_color=(255, 255, 255, 255))
            try:
                image = bitmap.to_pil().convert("RGB")
            finally:
                bitmap.close()
        finally:
            page.close()
    finally:
        document.close()
    # Rounding may leave a pixel over: the box is a promise.
    image.thumbnail(box, Image.Resampling.LANCZOS)
    return image
