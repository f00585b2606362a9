"""chatapp past one machine, on 127.0.0.1: Redis, PostgreSQL, N app processes and nginx.

    python scripts/cluster.py [--processes 3] [--port 8080]     # `make cluster`; Ctrl-C stops all

Everything lives in a temporary folder that is removed at the end; nothing is installed
as a service. The classes live in harness/processes.py, which tests/cluster/ uses too. See docs/deployment.md.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.processes import Cluster, flask_cli, missing_binaries  # noqa: E402


def main() -> int:
    """`make cluster`: start it all, print where, wait for Ctrl-C, stop it all."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--port", type=int, default=int(os.environ.get("CLUSTER_PORT", 8080)))
    args = parser.parse_args()
    missing = missing_binaries()
    if missing:
        print(f"missing: {', '.join(missing)} (apt-get install redis-server postgresql nginx)", file=sys.stderr)
        return 1
    workdir = Path(tempfile.mkdtemp(prefix="chatapp-cluster-"))
    cluster = Cluster(workdir, processes=args.processes, nginx_port=args.port)
    stopping = False

    def on_signal(signum, frame):  # type: ignore[no-untyped-def]
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    # The servers run in their own sessions, so Ctrl-C reaches only this script, which then
    # stops them in order: nginx, the app processes, PostgreSQL, Redis.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        print(f"starting Redis, PostgreSQL, {args.processes} app processes and nginx (logs in {workdir}) ...", flush=True)
        cluster.start()
        print(flask_cli(["seed-demo"], cluster.env).strip(), flush=True)
        for app in cluster.apps:
            print(f"  {app.name}: {app.url}", flush=True)
        print(f"  redis: {cluster.redis.url}\n  postgres: {cluster.postgres.url}", flush=True)
        print(f"chatapp cluster serving on {cluster.nginx.url} (Ctrl-C stops everything)", flush=True)
        while True:
            for app in cluster.apps:
                if app.process and app.process.poll() is not None:
                    print(f"{app.name} exited ({app.process.returncode}); see {app.log_path}", flush=True)
                    app.process = None
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
    finally:
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
