"""The report: the machine it ran on, chatapp ÷ Node ratios, the per-unit CPU figures, and results.md."""
from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import history  # bench/history.py: the page size the history section names
from plan import BENCH_DIR, CHATAPP, CHATAPP_2PROC, CONTENTION_RETRY_ABOVE, NODE, PROJECT_ROOT, SHORT_LABELS


# -- the report ------------------------------------------------------------------------

def _fmt(value: float | None) -> str:
    return "-" if value is None else (f"{value:.1f}" if value < 100 else f"{value:.0f}")


def machine_info(server_core: int | None, loadgen_core: int | None) -> dict:
    """What the numbers were measured on."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_total = ""
    try:
        mem_total = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()
    except OSError:
        pass

    def version(module: str) -> str:
        try:
            from importlib.metadata import version as v

            return v(module)
        except Exception:  # noqa: BLE001
            return "?"

    def node_package(folder: str, package: str) -> str:
        try:
            return json.loads((BENCH_DIR / folder / "node_modules" / package / "package.json").read_text())["version"]
        except (OSError, ValueError, KeyError):
            return "?"

    node_version = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    git = {"head": None, "changed_files": None}
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10)
        status = subprocess.run(["git", "status", "--porcelain"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10)
        git = {"head": head.stdout.strip() or None, "changed_files": len(status.stdout.splitlines()) if status.returncode == 0 else None}
    except (OSError, subprocess.TimeoutExpired):
        pass
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "memory": mem_total,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "node": node_version,
        "load_average_at_report": os.getloadavg(),
        "git": git,
        "server_core": server_core,
        "loadgen_core": loadgen_core,
        "packages": {
            "eventlet": version("eventlet"),
            "Flask-SocketIO": version("Flask-SocketIO"),
            "python-socketio": version("python-socketio"),
            "python-engineio": version("python-engineio"),
            "SQLAlchemy": version("SQLAlchemy"),
            "socket.io (baseline)": node_package("node-baseline", "socket.io"),
            "socket.io-client (loadgen)": node_package("loadgen", "socket.io-client"),
        },
    }


def _find(runs: list[dict], scenario: str, server: str, **params: Any) -> dict | None:
    for run in runs:
        if run["scenario"] == scenario and run["server"] == server and all(run["params"].get(k) == v for k, v in params.items()):
            return run
    return None


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 3)


def ratios(runs: list[dict]) -> list[dict]:
    """chatapp / node for each metric both measured."""
    rows = []
    for run in runs:
        if run["server"] == NODE.name:
            continue
        node = _find(runs, run["scenario"], NODE.name, **run["params"])
        if node is None:
            continue
        r, n = run["result"], node["result"]
        row = {"scenario": run["scenario"], "server": run["server"], "params": run["params"]}
        if run["scenario"] in ("fanout", "polling"):
            row["delivered_per_s"] = _ratio(r["delivered_per_s"], n["delivered_per_s"])
            row["latency_p50"] = _ratio(r["latency_ms"]["p50"], n["latency_ms"]["p50"])
            row["latency_p99"] = _ratio(r["latency_ms"]["p99"], n["latency_ms"]["p99"])
            row["server_cpu"] = _ratio(run.get("server_proc", {}).get("cpu_utilization"), node.get("server_proc", {}).get("cpu_utilization"))
            row["server_cpu_per_delivery"] = _ratio(server_cpu_per_unit(run), server_cpu_per_unit(node))
            if r.get("saturation") and n.get("saturation"):
                row["max_delivered_per_s"] = _ratio(r["saturation"]["delivered_per_s"], n["saturation"]["delivered_per_s"])
                row["max_load_cpu_per_delivery"] = _ratio(
                    server_cpu_per_unit(run, saturation=True), server_cpu_per_unit(node, saturation=True)
                )
        if run["scenario"] == "write":
            row["acked_per_s"] = _ratio(r["acked_per_s"], n["acked_per_s"])
            row["ack_latency_p50"] = _ratio(r["ack_latency_ms"]["p50"], n["ack_latency_ms"]["p50"])
            row["ack_latency_p99"] = _ratio(r["ack_latency_ms"]["p99"], n["ack_latency_ms"]["p99"])
            row["server_cpu_per_send"] = _ratio(server_cpu_per_unit(run), server_cpu_per_unit(node))
        if run["scenario"] == "connections":
            row["bytes_per_connection"] = _ratio(
                run.get("server_proc", {}).get("bytes_per_connection"), node.get("server_proc", {}).get("bytes_per_connection")
            )
            row["connected"] = _ratio(r["connected"], n["connected"])
            row["connect_cpu_per_connection"] = _ratio(
                run.get("server_proc", {}).get("connect_cpu_us_per_connection"), node.get("server_proc", {}).get("connect_cpu_us_per_connection")
            )
        rows.append(row)
    return rows


def write_markdown(report: dict, path: Path) -> None:
    """results.md: the tables docs/performance.md quotes."""
    runs = report["runs"]
    m = report["machine"]
    out = [
        f"# Benchmark results ({report['mode']} mode)",
        "",
        f"Machine: {m['cpus']} × {m['cpu']}, {m['memory']}, Linux {m['kernel']}; Python {m['python']}, Node {m['node']}. "
        f"{m.get('pinning', '')}. Load average at the end: {', '.join(f'{x:.2f}' for x in m['load_average_at_report'])}. "
        f"Run took {report['elapsed_s']} s. Finished {report.get('finished_at', '')}. "
        f"Code: git {m['git']['head']} with {m['git']['changed_files']} changed or new files in the work tree.",
        "",
        "Server CPU is a share of one core (1.00 = the whole core); \"others\" is what other processes used of the",
        "server's core in the same window (the machine is shared; a run disturbed by more than "
        f"{CONTENTION_RETRY_ABOVE} is run once more and the less disturbed one kept: \"best of 2\"); µs/delivery is the",
        "server's CPU time divided by the messages it delivered (or sends it acked), the figure least disturbed by other load.",
        "",
    ]
    if report["skipped"]:
        out += [f"Skipped (time budget): {', '.join(report['skipped'])}", ""]
    if report.get("failures"):
        out += ["Failed runs (see logs/):", ""] + [f"- {failure.splitlines()[0][:300]}" for failure in report["failures"]] + [""]

    def lat(r: dict, key: str = "latency_ms") -> str:
        x = r[key]
        return f"{_fmt(x['p50'])} / {_fmt(x['p99'])} / {_fmt(x['max'])}"

    def num(value: float | None, digits: int = 2) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    def cpu(run: dict) -> str:
        return num(run.get("server_proc", {}).get("cpu_utilization"))

    def others(run: dict, key: str = "cores") -> str:
        text = num(run.get(key, {}).get("server_core_others"))
        tries = len(run.get("attempts_disturbance") or [])
        return text + (f" (best of {tries})" if tries > 1 else "")

    def peak(run: dict) -> str:
        value = run.get("server_proc", {}).get("peak_rss_bytes")
        return "-" if value is None else f"{value / 2**20:.0f}"

    def per_unit(run: dict) -> str:
        return num(server_cpu_per_unit(run), 0)

    fan = [run for run in runs if run["scenario"] == "fanout"]
    if fan:
        out += [
            "## Fan-out at a fixed rate: one sender, R messages/s into one room of C WebSocket clients",
            "",
            "| C | R msg/s | server | delivered/s (offered) | latency p50 / p99 / max (ms) | lost | dup | join all C (s) | deflate | server CPU | µs/delivery | server peak RSS (MiB) | others on server core | loadgen CPU | loadgen loop delay p99 (ms) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for run in fan:
            r = run["result"]
            deflate = "yes" if (r["negotiated_extensions"] or "").startswith("permessage-deflate") else "no"
            out.append(
                f"| {r['clients']} | {r['offered_rate']} | {run['server_label']} | {r['delivered_per_s']:.0f} ({r['offered_deliveries_per_s']}) | {lat(r)} | "
                f"{r['lost']} | {r['duplicates']} | {r['join_seconds']:.1f} | {deflate} | {cpu(run)} | {per_unit(run)} | {peak(run)} | {others(run)} | "
                f"{r['loadgen']['cpu_utilization']:.2f} | {_fmt(r['loadgen']['event_loop_delay_ms']['p99'])} |"
            )
        out.append("")
    sat = [run for run in fan if run["result"].get("saturation")]
    if sat:
        out += [
            "## Fan-out at full load: the same room, keeping W messages in flight (a message is done when all C clients have it)",
            "",
            "| C | W | server | max delivered/s | messages/s | latency p50 / p99 / max (ms) | incomplete | server CPU | µs/delivery | others on server core | loadgen CPU |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for run in sat:
            r, x = run["result"], run["result"]["saturation"]
            out.append(
                f"| {r['clients']} | {x['window']} | {run['server_label']} | {x['delivered_per_s']:.0f} | {x['messages_per_s']:.1f} | {lat(x)} | {x['incomplete']} | "
                f"{num(run.get('saturate_server_proc', {}).get('cpu_utilization'))} | {num(server_cpu_per_unit(run, saturation=True), 0)} | "
                f"{others(run, 'saturate_cores')} | {x['loadgen']['cpu_utilization']:.2f} |"
            )
        out.append("")
        fits = [(run_server, per_message_and_recipient(sat, run_server)) for run_server in dict.fromkeys(run["server"] for run in sat)]
        fits = [(name, fit) for name, fit in fits if fit is not None]
        if fits:
            out += [
                "Split of that CPU (least squares over the sizes C above, full load): µs/delivery = a / C + b, where a is",
                "what one message costs once (receiving the send, storing, acking: per message) and b what each recipient costs",
                "(queueing, framing and writing the frame: per delivery).",
                "",
                "| server | a: µs per message | b: µs per recipient | sizes |",
                "|---|---|---|---|",
            ]
            out += [f"| {SHORT_LABELS.get(name, name).replace(chr(10), ' ')} | {a:.0f} | {b:.1f} | {n} |" for name, (a, b, n) in fits]
            out.append("")
    wr = [run for run in runs if run["scenario"] == "write"]
    if wr:
        out += [
            "## Write path: S senders across K rooms, each sending when its last send was acked",
            "",
            "| S | K | server | acked sends/s | ack latency p50 / p99 / max (ms) | errors | server CPU | µs/send | others on server core | loadgen CPU |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for run in wr:
            r = run["result"]
            out.append(
                f"| {r['senders']} | {r['rooms']} | {run['server_label']} | {r['acked_per_s']:.0f} | {lat(r, 'ack_latency_ms')} | {r['errors']} | "
                f"{cpu(run)} | {per_unit(run)} | {others(run)} | {r['loadgen']['cpu_utilization']:.2f} |"
            )
        out.append("")
    co = [run for run in runs if run["scenario"] == "connections"]
    if co:
        out += [
            "## Idle WebSocket connections held by one server process",
            "",
            "| tried | server | connected | RSS before (MiB) | RSS after (MiB) | KiB per connection | server CPU µs per connect | connects/s | still connected after hold | idle CPU | first refusal |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for run in co:
            r, proc = run["result"], run.get("server_proc", {})
            if "rss_before_bytes" not in proc:
                continue
            out.append(
                f"| {r['clients']} | {run['server_label']} | {r['connected']} | {proc['rss_before_bytes'] / 2**20:.1f} | {proc['rss_after_bytes'] / 2**20:.1f} | "
                f"{proc['bytes_per_connection'] / 1024:.1f} | {proc['connect_cpu_us_per_connection']} | {num(r['connects_per_s'], 0)} | {r['still_connected']} | "
                f"{num(proc.get('idle_cpu_utilization'), 3)} | {r['first_error'] or '-'} |"
            )
        out.append("")
    po = [run for run in runs if run["scenario"] == "polling"]
    if po:
        out += [
            "## Long-polling: P polling clients in one room, R messages/s from a WebSocket sender",
            "",
            "| P | R msg/s | server | delivered/s (offered) | latency p50 / p99 / max (ms) | lost | dup | server CPU | µs/delivery | others on server core | loadgen CPU |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for run in po:
            r = run["result"]
            out.append(
                f"| {r['clients']} | {r['offered_rate']} | {run['server_label']} | {r['delivered_per_s']:.0f} ({r['offered_deliveries_per_s']}) | {lat(r)} | "
                f"{r['lost']} | {r['duplicates']} | {cpu(run)} | {per_unit(run)} | {others(run)} | {r['loadgen']['cpu_utilization']:.2f} |"
            )
        out.append("")
    hi = [run for run in runs if run["scenario"] == "history"]
    if hi:
        out += [
            f"## History paging: {history.PAGE}-message pages from one room (chatapp only: the Node baseline keeps no history)",
            "",
            "In-process: `list_messages` + `to_dict` in a fresh session, pinned to the server's core. End to end: the `history`",
            "event's ack over a WebSocket, one request at a time, at the same `before` positions. Random pages are cold for the",
            "Markdown cache; the newest page is the same page again (warm).",
            "",
            "| messages in room | what | random page p50 / p99 / max (ms) | of which query / to_dict p50 (ms) | CPU time per random page p50 (ms) | newest page p50 / p99 (ms) | SQL statements per page | pages |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for run in hi:
            svc, e2e, bare = run["service"], run["result"], run.get("service_without_index")
            rows = [("in-process", svc), ("end to end (socket.io)", None)] + ([("in-process, index dropped", bare)] if bare else [])
            for what, figures in rows:
                page = figures["random_page_ms"] if figures else e2e["random_page_ms"]
                newest = figures["newest_page_ms"] if figures else e2e["newest_page_ms"]
                split = (f"{_fmt(figures['random_page_query_ms']['p50'])} / {_fmt(figures['random_page_to_dict_ms']['p50'])}"
                         if figures else "-")
                # End to end: the server's CPU time over the measured pages, per page (mean, not median).
                cpu_page = (_fmt((figures.get("random_page_cpu_ms") or {}).get("p50")) if figures else
                            _fmt(None if run.get("server_proc", {}).get("cpu_seconds") is None
                                 else run["server_proc"]["cpu_seconds"] * 1000 / e2e["pages"]) + " (server, mean)")
                out.append(
                    f"| {run['build']['messages_in_room']:,} | {what} | {lat({'x': page}, 'x')} | {split} | {cpu_page} | "
                    f"{_fmt(newest['p50'])} / {_fmt(newest['p99'])} | {', '.join(map(str, figures['statements_per_page'])) if figures else '-'} | "
                    f"{page['count']} |"
                )
            build = run["build"]
            out += [
                "",
                f"Database: {build['messages_total']:,} messages ({build['mentions']:,} with a mention) from {build['senders']} senders, "
                f"{build['file_bytes'] / 2**20:.0f} MiB, built in {build['build_seconds']} s"
                + (" (an earlier run; reused from bench/results/cache/)" if build["cached"] else " (this run)")
                + f". In-process, the timing process had {num(svc.get('cpu_share_while_timed'))} of its core while timed (1.00: it never"
                f" waited for another process); end to end, the server used {cpu(run)} of its core, and others {others(run)}.",
                "",
                "Query plan of the page query (`EXPLAIN QUERY PLAN`):",
                "",
                "```",
                *svc["query_plan"],
                "```",
            ]
            if bare:
                out += ["", "With `ix_message_room_id_id` dropped (a copy of the database):", "", "```", *bare["query_plan"], "```"]
            out.append("")
    two = [run for run in fan if run["server"] == CHATAPP_2PROC.name]
    if two:
        out += [
            "## Fan-out: two chatapp processes with Redis beside one process and Node (same C)",
            "",
            "Server CPU of the two-process row is both chatapp processes together; Redis is shown apart (it runs on the",
            "server's core too). Receivers are spread round-robin over the two processes, the sender is on the first.",
            "÷ 1 proc: the two-process figure divided by one-process chatapp's in the same run.",
            "",
            "| C | server | max delivered/s | ÷ 1 proc | ÷ Node | µs/delivery, full load (Redis apart) | ÷ 1 proc | Redis CPU, full load | "
            "latency p50 / p99 at R (ms) | p99 ÷ 1 proc | server CPU at R | Redis CPU at R | server peak RSS (MiB) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for size in sorted({run["params"]["clients"] for run in two}):
            one = _find(runs, "fanout", CHATAPP.name, clients=size)
            node = _find(runs, "fanout", NODE.name, clients=size)
            for run in (one, _find(runs, "fanout", CHATAPP_2PROC.name, clients=size), node):
                if run is None:
                    continue
                r = run["result"]
                peak_value = (run.get("redis_proc") or {}).get("peak_rss_bytes")

                def sat_rate(x: dict | None) -> float | None:
                    return ((x or {}).get("result", {}).get("saturation") or {}).get("delivered_per_s")

                def p99(x: dict | None) -> float | None:
                    return None if x is None else x["result"]["latency_ms"]["p99"]

                def upd(x: dict | None) -> float | None:
                    return None if x is None else server_cpu_per_unit(x, saturation=True)

                is_two = run["server"] == CHATAPP_2PROC.name
                out.append(
                    f"| {size} | {run['server_label']} | {num(sat_rate(run), 0)} | {num(_ratio(sat_rate(run), sat_rate(one))) if is_two else ''} | "
                    f"{num(_ratio(sat_rate(run), sat_rate(node))) if run is not node else ''} | {num(upd(run), 0)} | "
                    f"{num(_ratio(upd(run), upd(one))) if is_two else ''} | {num(run.get('saturate_redis_proc', {}).get('cpu_utilization')) if is_two else ''} | "
                    f"{_fmt(r['latency_ms']['p50'])} / {_fmt(r['latency_ms']['p99'])} | {num(_ratio(p99(run), p99(one))) if is_two else ''} | "
                    f"{cpu(run)} | {num(run.get('redis_proc', {}).get('cpu_utilization')) if is_two else ''} | "
                    f"{peak(run)}{f' (+ Redis {peak_value / 2**20:.0f})' if peak_value else ''} |"
                )
        out.append("")
    rows = report["ratios"]
    if rows:
        out += ["## Ratios: chatapp ÷ Node baseline, same run (>1 means chatapp has more of it)", ""]
        tables = {
            "fanout": ["max_delivered_per_s", "max_load_cpu_per_delivery", "delivered_per_s", "latency_p50", "latency_p99", "server_cpu_per_delivery"],
            "write": ["acked_per_s", "ack_latency_p50", "ack_latency_p99", "server_cpu_per_send"],
            "connections": ["connected", "bytes_per_connection", "connect_cpu_per_connection"],
            "polling": ["delivered_per_s", "latency_p50", "latency_p99", "server_cpu", "server_cpu_per_delivery"],
        }
        for scenario, keys in tables.items():
            mine = [row for row in rows if row["scenario"] == scenario]
            if not mine:
                continue
            out += [f"| {scenario} | server | " + " | ".join(keys) + " |", "|---|---|" + "---|" * len(keys)]
            for row in mine:
                params = ", ".join(f"{k}={v}" for k, v in row["params"].items())
                out.append(f"| {params} | {row['server']} | " + " | ".join(num(row.get(k)) for k in keys) + " |")
            out.append("")
    for label, prof in (report.get("profiles") or {}).items():
        total = max(prof["samples"], 1)
        out += [f"## Profile {label} (py-spy): top functions by self time", "", prof["title"], "", "```"]
        out += [f"{100 * c / total:5.1f}%  {f}" for f, c in prof["top_self"]]
        out += ["```", f"Full summary: profile-{label}.txt; collapsed stacks (speedscope, flamegraph.pl): profile-{label}.collapsed.txt", ""]
    path.write_text("\n".join(out))


def per_message_and_recipient(runs: list[dict], server: str) -> tuple[float, float, int] | None:
    """(a, b, sizes): the least-squares fit of full-load µs/delivery = a / C + b over server's fan-out sizes C."""
    points = [(1 / run["params"]["clients"], server_cpu_per_unit(run, saturation=True)) for run in runs if run["server"] == server]
    points = [(x, y) for x, y in points if y is not None]
    if len({x for x, _ in points}) < 2:
        return None
    mean_x, mean_y = sum(x for x, _ in points) / len(points), sum(y for _, y in points) / len(points)
    a = sum((x - mean_x) * (y - mean_y) for x, y in points) / sum((x - mean_x) ** 2 for x, _ in points)
    return a, mean_y - a * mean_x, len(points)


def server_cpu_per_unit(run: dict, *, saturation: bool = False) -> float | None:
    """Server CPU time in microseconds per delivered message (fan-out, polling) or per acked send (write)."""
    if saturation:
        cpu = run.get("saturate_server_proc", {}).get("cpu_seconds")
        units = (run["result"].get("saturation") or {}).get("delivered")
        return None if cpu is None or not units else cpu * 1e6 / units
    cpu = run.get("server_proc", {}).get("cpu_seconds")
    r = run["result"]
    units = r.get("delivered") if run["scenario"] in ("fanout", "polling") else r.get("acked")
    if cpu is None or not units:
        return None
    return cpu * 1e6 / units
