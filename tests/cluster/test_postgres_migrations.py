"""The same migrations as on SQLite bring PostgreSQL to the models' schema, and back down."""
from __future__ import annotations

import pytest

from harness.processes import Postgres, find_binary, flask_cli

from .conftest import require

pytestmark = pytest.mark.cluster


def test_migrations_run_up_down_and_up_on_postgresql(tmp_path):
    require([name for name in ("initdb", "postgres") if find_binary(name) is None])
    server = Postgres(tmp_path)
    server.start()
    try:
        env = {"DATABASE_URL": server.url}
        flask_cli(["db", "upgrade"], env)
        assert "No new upgrade operations detected" in flask_cli(["db", "check"], env)
        flask_cli(["db", "downgrade", "base"], env)
        flask_cli(["db", "upgrade"], env)
        assert "Demo data added" in flask_cli(["seed-demo"], env)
    finally:
        server.stop()
