"""A fresh server process whose very first request is a socket reloading its user, as after a restart."""
from __future__ import annotations

import pytest
import socketio

pytestmark = pytest.mark.live


def test_a_socket_can_be_the_first_request_a_new_process_serves(live_server):
    live_server.add_user("alice")
    live_server.add_room("lobby")
    live_server.start()
    session = live_server.login("alice")
    live_server.restart()  # the login cookie outlives the process; only /healthz has reached the new one
    client = socketio.Client(reconnection=False)
    try:
        client.connect(
            live_server.url, headers=live_server.socket_headers(session), transports=["websocket"], wait_timeout=10
        )
        assert client.call("join", {"room": "lobby"}, timeout=10)["ok"] is True
    finally:
        client.disconnect()
    assert "supports_population" not in live_server.log()


def _python(code: str, tmp_path) -> str:
    """Run code in a fresh interpreter that imports wsgi.py (on a throwaway database); return its output."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "SECRET_KEY": "k" * 64, "DATABASE_URL": f"sqlite:///{tmp_path / 'gc.sqlite3'}"}
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parent.parent, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_the_server_freezes_start_up_objects_and_collects_young_ones_less_often(tmp_path):
    """Full collections walked every connection's objects every ~70k allocations: 60-100 ms pauses at p99."""
    threshold, frozen, gen2 = _python(
        "import gc, wsgi; wsgi.tune_gc(); print(gc.get_threshold()[0], gc.get_freeze_count(), gc.get_threshold()[2])",
        tmp_path)
    assert int(threshold) == 10_000
    assert int(frozen) > 10_000  # the modules and the app, out of every walk
    assert int(gen2) == 10  # full collections still happen: cycles are still freed


def test_gc_tuning_can_be_turned_off(tmp_path):
    threshold, frozen = _python("import gc, wsgi; wsgi.tune_gc(0); print(gc.get_threshold()[0], gc.get_freeze_count())",
                                tmp_path)
    assert (int(threshold), int(frozen)) == (700, 0)
