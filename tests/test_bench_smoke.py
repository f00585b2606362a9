"""The benchmark's smoke mode runs end to end and measures something sane (never a timing threshold)."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chatapp import PROJECT_ROOT

pytestmark = pytest.mark.live

SMOKE_TIMEOUT_S = 300  # a hang guard for a loaded CI machine, not a performance bound


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    """One smoke run of bench/bench.py into a temporary folder; its results.json."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("the benchmark needs node and npm (make test installs them: scripts/system-deps.sh)")
    out = tmp_path_factory.mktemp("bench")
    done = subprocess.run(
        [sys.executable, "bench/bench.py", "--mode", "smoke", "--out", str(out)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=SMOKE_TIMEOUT_S,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    data = json.loads((out / "results.json").read_text())
    data["_out"] = out
    return data


def runs(report: dict, scenario: str) -> list[dict]:
    return [run for run in report["runs"] if run["scenario"] == scenario]


def test_every_scenario_ran_for_chatapp_and_both_baselines(report):
    assert not report["skipped"] and not report["failures"]
    for scenario in ("fanout", "write", "connections", "polling"):
        servers = {run["server"] for run in runs(report, scenario)}
        assert {"chatapp", "python-socketio", "node"} <= servers, scenario
    assert {"chatapp", "chatapp-deflate", "node"} <= {run["server"] for run in runs(report, "fanout")}


def test_fanout_delivers_every_message_to_every_client_once(report):
    for run in runs(report, "fanout") + runs(report, "polling"):
        result = run["result"]
        assert result["sent"] > 0 and result["acked"] == result["sent"], run["server"]
        assert result["delivered"] == result["expected"] > 0, run["server"]
        assert result["lost"] == 0 and result["duplicates"] == 0, run["server"]
        assert result["min_per_client"] == result["sent"], run["server"]
        assert result["latency_ms"]["count"] == result["delivered"]
        assert 0 <= result["latency_ms"]["p50"] <= result["latency_ms"]["p99"] <= result["latency_ms"]["max"]


def test_the_compression_switch_shows_in_the_handshake(report):
    negotiated = {run["server"]: run["result"]["negotiated_extensions"] or "" for run in runs(report, "fanout")}
    assert negotiated["chatapp-deflate"].startswith("permessage-deflate")
    assert "permessage-deflate" not in negotiated["chatapp"]
    assert "permessage-deflate" not in negotiated["node"]


def test_write_path_acks_sends_without_errors(report):
    for run in runs(report, "write"):
        result = run["result"]
        assert result["acked"] > 0 and result["errors"] == 0, run["server"]
        assert result["ack_latency_ms"]["count"] == result["acked"]


def test_connections_are_held_and_measured(report):
    for run in runs(report, "connections"):
        result = run["result"]
        assert result["connected"] == result["still_connected"] == result["clients"], run["server"]
        assert result["failed"] == 0, run["server"]
        assert run["server_proc"]["rss_after_bytes"] > 0


def test_cpu_and_memory_of_server_and_generator_are_recorded(report):
    for run in runs(report, "fanout") + runs(report, "write"):
        assert run["server_proc"]["cpu_seconds"] is not None
        assert run["server_proc"]["peak_rss_bytes"] > 0
        assert run["result"]["loadgen"]["cpu_seconds"] >= 0
        assert run["loadgen_proc"]["cpu_seconds"] is not None


def test_the_report_has_ratios_tables_and_plots(report):
    out: Path = report["_out"]
    assert {row["scenario"] for row in report["ratios"]} == {"fanout", "write", "connections", "polling"}
    text = (out / "results.md").read_text()
    assert "Ratios: chatapp ÷ Node baseline" in text
    for name in report["plots"]:
        assert (out / name).stat().st_size > 1000
    assert "fanout.png" in report["plots"]


def test_two_processes_with_redis_share_the_fanout(report):
    """chatapp-2proc-redis: receivers on both processes, every message through Redis to the second, CPU summed."""
    two = [run for run in runs(report, "fanout") if run["server"] == "chatapp-2proc-redis"]
    assert two and {run["params"]["clients"] for run in two} == {
        run["params"]["clients"] for run in runs(report, "fanout")
    }
    for run in two:
        per_url = run["result"]["receivers_per_url"]
        assert len(per_url) == 2 and min(per_url) > 0 and sum(per_url) == run["result"]["clients"]
        assert run["server_processes"] == 2
        assert run["server_proc"]["cpu_seconds"] is not None and run["redis_proc"]["cpu_seconds"] is not None
        assert run["redis_proc"]["peak_rss_bytes"] > 0
    assert "two chatapp processes with Redis" in (report["_out"] / "results.md").read_text()


def test_history_pages_are_timed_in_process_and_end_to_end_on_the_index(report):
    (run,) = runs(report, "history")
    service, end_to_end, bare = run["service"], run["result"], run["service_without_index"]
    assert run["server"] == "chatapp" and run["build"]["messages_in_room"] == run["params"]["messages"] > 0
    assert service["messages_per_page"] == [50] and end_to_end["page_sizes"] == [50]
    assert len(service["statements_per_page"]) == 1  # the same for every page
    assert service["random_page_ms"]["count"] == end_to_end["random_page_ms"]["count"] == service["pages"]
    assert end_to_end["newest_page_ms"]["count"] > 0
    assert any("USING INDEX ix_message_room_id_id" in step for step in service["query_plan"])
    assert not any("ix_message_room_id_id" in step for step in bare["query_plan"]) and bare["index_dropped"]
    assert "History paging" in (report["_out"] / "results.md").read_text() and "history.png" in report["plots"]
