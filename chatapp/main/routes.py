"""The health check, the browser's third-party scripts (from node_modules) and the favicon."""
import os

from flask import abort, current_app, jsonify, send_from_directory
from sqlalchemy import text

from ..config import PROJECT_ROOT
from ..extensions import db, limiter
from .blueprint import bp

# Files the browser may load from installed npm packages: URL name -> (package dir, file).
VENDOR_FILES = {
    "socket.io.esm.min.js": ("socket.io-client/dist", "socket.io.esm.min.js"),
    "socket.io.esm.min.js.map": ("socket.io-client/dist", "socket.io.esm.min.js.map"),
    # Chart.js's one-file build: imported for its side effect, it sets globalThis.Chart (reports.js).
    "chart.umd.min.js": ("chart.js/dist", "chart.umd.min.js"),
    "chart.umd.min.js.map": ("chart.js/dist", "chart.umd.min.js.map"),
}


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """Answer 200 when the app and its database answer."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


@bp.get("/vendor/<path:name>")
@limiter.exempt
def vendor(name: str):
    """Serve an allow-listed file of an installed npm package."""
    if name not in VENDOR_FILES:
        abort(404)
    package_dir, filename = VENDOR_FILES[name]
    directory = os.path.join(PROJECT_ROOT, "node_modules", package_dir)
    return send_from_directory(directory, filename, max_age=3600)


@bp.get("/favicon.ico")
@limiter.exempt
def favicon():
    """Browsers ask for /favicon.ico whatever the page links: answer with the SVG icon."""
    return send_from_directory(current_app.static_folder or "", "favicon.svg", mimetype="image/svg+xml",
                               max_age=86400)

