"""The server entry point: eventlet monkey-patching, the app, and socketio.run().

`python wsgi.py` serves on HOST:PORT (default 127.0.0.1:5000). `flask --app wsgi ...`
imports this module for the CLI, where no monkey-patching is wanted.
"""
import os

if __name__ == "__main__":
    import eventlet

    eventlet.monkey_patch()

from chatapp import create_app  # noqa: E402
from chatapp.extensions import socketio  # noqa: E402

app = create_app()

if __name__ == "__main__":
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    print(f"chatapp serving on http://{host}:{port}", flush=True)
    socketio.run(app, host=host, port=port, log_output=os.environ.get("ACCESS_LOG", "") == "1")
