"""chatapp's benchmark: chatapp, a bare Node Socket.IO server and a bare python-socketio one, side by side, in one run.

    python bench/bench.py --mode full  [--out DIR]     # `make bench`, under 10 minutes
    python bench/bench.py --mode smoke [--out DIR]     # `make bench-smoke`, seconds; run by the tests

Every server runs on 127.0.0.1, pinned to core 0 (when the machine has two cores or
more); one Node load generator (bench/loadgen) drives them all from core 1. This driver
seeds chatapp's database through chatapp's own services, logs the users in through the
real login form, hands their session cookies to the load generator, samples the CPU
time and RSS of the server and of the generator from /proc, and writes results.json,
results.md and PNG plots into the output folder. See docs/performance.md.
"""
# The entry point and its command line. The work lives beside it, one module per job: plan.py (the
# modes, the servers, the scenarios), run.py (servers, load, scenarios), measure.py (/proc, profiles),
# report.py (ratios, results.md), plot.py (the PNGs); history.py builds and times the big room.
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from plan import ALL_SERVERS, CHATAPP, FANOUT_SERVERS, PLANS, RESULTS_DIR, SCENARIOS, WRITE_SERVERS
from plot import plot
from report import write_markdown
from run import (
    Bench,
    _end_all_started,
    _on_signal,
    ensure_node_packages,
    login,
    pick_cores,
    raise_open_files,
    seed_chatapp,
    write_rooms,
)


def _senders_and_rooms(text: str) -> tuple[int, int]:
    """"200:100" -> (200, 100): S senders spread over K rooms (two per room when K = S/2)."""
    senders, _, room_count = text.partition(":")
    pair = (int(senders), int(room_count or max(1, int(senders) // 2)))
    if not (1 <= pair[1] <= pair[0] <= 2000):
        raise argparse.ArgumentTypeError("S:K with 1 <= K <= S <= 2000")
    return pair


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=sorted(PLANS), default="smoke")
    parser.add_argument("--out", type=Path, help="output folder (default bench/results/MODE)")
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy profile (full mode)")
    parser.add_argument("--render", type=Path, metavar="DIR", help="only redo results.md and the plots from DIR/results.json")
    parser.add_argument("--only", action="append", choices=list(SCENARIOS), help="run only these scenarios")
    parser.add_argument(
        "--server", action="append", choices=[kind.name for kind in ALL_SERVERS], help="run only these server kinds (repeatable)"
    )
    parser.add_argument(
        "--senders", action="append", type=_senders_and_rooms, metavar="S:K",
        help="write path: S senders in K rooms instead of the mode's sizes (repeatable; makes max S accounts)",
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _on_signal)
    if args.render:
        report = json.loads((args.render / "results.json").read_text())
        write_markdown(report, args.render / "results.md")
        report["plots"] = plot(report, args.render)
        (args.render / "results.json").write_text(json.dumps(report, indent=1))
        return 0

    out: Path = (args.out or RESULTS_DIR / args.mode).resolve()
    out.mkdir(parents=True, exist_ok=True)
    (out / "logs").mkdir(exist_ok=True)
    for stale in ("results.json", "results.md"):
        (out / stale).unlink(missing_ok=True)
    plan = PLANS[args.mode]
    if args.senders:
        plan = replace(plan, write=tuple(args.senders), users=max(plan.users, *(senders for senders, _ in args.senders)))
    ensure_node_packages()
    server_core, loadgen_core, pinning = pick_cores()
    if loadgen_core is not None:
        os.sched_setaffinity(0, {loadgen_core})  # keep this driver off the server's core
    open_files = raise_open_files()
    print(f"bench ({args.mode}): {pinning}; open files limit {open_files}; output in {out}", flush=True)

    bench = Bench(
        mode=args.mode,
        plan=plan,
        out=out,
        server_core=server_core,
        loadgen_core=loadgen_core,
        profile=not args.no_profile and plan.profile_clients is not None,
        only=set(args.only) if args.only else None,
        servers=set(args.server) if args.server else None,
    )
    workdir = Path(tempfile.mkdtemp(prefix="chatapp-bench-"))
    try:
        db_path = workdir / "bench.sqlite3"
        bench.db_url = f"sqlite:///{db_path}"
        rooms = [f"fanout-c{c}-{k.name}" for c, _ in plan.fanout for k in FANOUT_SERVERS if k.is_chatapp]  # a few unused: harmless
        rooms += [room for k in WRITE_SERVERS if k.is_chatapp for sr in plan.write for room in write_rooms(k, *sr)] + ["polling"]
        t0 = time.monotonic()
        names = seed_chatapp(db_path, users=plan.users, rooms=rooms)
        with bench.server(CHATAPP) as server:
            bench.cookies = [login(server.url, name) for name in names]
        print(f"seeded {len(names)} users and {len(rooms)} rooms, logged them in: {time.monotonic() - t0:.1f} s", flush=True)
        for scenario in SCENARIOS:
            if bench.wanted(scenario):
                print(f"{scenario}:", flush=True)
                getattr(bench, scenario if scenario != "write" else "write_path")()
        report = bench.report()
        report["machine"]["pinning"] = pinning
        report["machine"]["open_files_limit"] = open_files
        report["finished_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        (out / "results.json").write_text(json.dumps(report, indent=1))
        write_markdown(report, out / "results.md")
        report["plots"] = plot(report, out)
        (out / "results.json").write_text(json.dumps(report, indent=1))
        print(f"done in {report['elapsed_s']} s: {out / 'results.md'}", flush=True)
        if bench.failures:
            print(f"{len(bench.failures)} run(s) failed:\n" + "\n".join(f[:300] for f in bench.failures), flush=True)
            return 1
        return 0
    finally:
        _end_all_started()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
