"""Measuring: CPU time and RSS of processes and cores from /proc, how disturbed a run was, and py-spy profiles summed up.

Imports no other bench module except `plan`.
"""
from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from plan import PROJECT_ROOT

PROFILE_HZ = 250
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


# -- processes and cores, from /proc ---------------------------------------------------

@dataclass
class ProcSample:
    """CPU seconds (user+system) and resident memory of one process at one moment."""

    t: float
    cpu_s: float
    rss_bytes: int


def sample(pid: int) -> ProcSample | None:
    """Read /proc/<pid>/stat and statm; None once the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        statm = Path(f"/proc/{pid}/statm").read_text().split()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return ProcSample(t=time.monotonic(), cpu_s=(utime + stime) / CLK_TCK, rss_bytes=int(statm[1]) * PAGE_SIZE)


def sample_all(pids: list[int]) -> ProcSample | None:
    """CPU seconds and RSS summed over several processes at one moment; None once one is gone."""
    got = [sample(pid) for pid in pids]
    if not got or any(g is None for g in got):
        return None
    return ProcSample(t=max(g.t for g in got), cpu_s=sum(g.cpu_s for g in got), rss_bytes=sum(g.rss_bytes for g in got))  # type: ignore[union-attr]


def core_ticks() -> dict[int, tuple[int, int]]:
    """(busy, total) clock ticks of each core since boot, from /proc/stat."""
    ticks = {}
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            name, *values = line.split()
            if name.startswith("cpu") and name[3:].isdigit():
                numbers = [int(v) for v in values[:8]]
                idle = numbers[3] + numbers[4]  # idle + iowait
                ticks[int(name[3:])] = (sum(numbers) - idle, sum(numbers))
    except OSError:
        pass
    return ticks


def core_busy(start: dict, end: dict, core: int | None) -> float | None:
    """How busy one core was between two core_ticks() readings (1.0 = fully)."""
    if core is None or core not in start or core not in end:
        return None
    busy = end[core][0] - start[core][0]
    total = end[core][1] - start[core][1]
    return round(busy / total, 3) if total > 0 else None


def window(start: ProcSample | None, end: ProcSample | None) -> dict:
    """CPU used between two samples, as seconds and as a share of one core."""
    if start is None or end is None or end.t <= start.t:
        return {"cpu_seconds": None, "wall_seconds": None, "cpu_utilization": None}
    cpu = end.cpu_s - start.cpu_s
    return {"cpu_seconds": round(cpu, 3), "wall_seconds": round(end.t - start.t, 3), "cpu_utilization": round(cpu / (end.t - start.t), 3)}


class Sampler(threading.Thread):
    """Samples the server's and the generator's CPU and RSS every 0.25 s (for peaks)."""

    def __init__(self, pids: dict[str, list[int]]) -> None:
        super().__init__(daemon=True)
        self.pids = pids
        self.samples: dict[str, list[ProcSample]] = {name: [] for name in pids}
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(0.25):
            for name, pids in self.pids.items():
                got = sample_all(pids)
                if got:
                    self.samples[name].append(got)

    def peak_rss(self, name: str) -> int | None:
        values = [s.rss_bytes for s in self.samples[name]]
        return max(values) if values else None


def _sum_utilization(windows: list[dict]) -> dict:
    """The CPU share of several processes together (None if any is unknown)."""
    values = [w.get("cpu_utilization") for w in windows]
    return {"cpu_utilization": None if any(v is None for v in values) else round(sum(values), 3)}


def contention(
    start: dict, end: dict, *, server_core: int | None, server_cpu: dict, loadgen_cpu: dict, loadgen_core: int | None
) -> dict:
    """How busy the server's and the generator's cores were, and how much of that was other processes."""
    server_busy = core_busy(start["cores"], end["cores"], server_core)
    loadgen_busy = core_busy(start["cores"], end["cores"], loadgen_core)
    server_cpu = server_cpu.get("cpu_utilization")
    loadgen_cpu = loadgen_cpu.get("cpu_utilization")
    return {
        "server_core_busy": server_busy,
        # Anything else that ran on the server's core meanwhile (this machine is shared).
        "server_core_others": None if server_busy is None or server_cpu is None else round(max(0.0, server_busy - server_cpu), 3),
        "loadgen_core_busy": loadgen_busy,
        "loadgen_core_others": None if loadgen_busy is None or loadgen_cpu is None else round(max(0.0, loadgen_busy - loadgen_cpu), 3),
    }


# -- py-spy profiles ------------------------------------------------------------------

def summarize_profile(raw_path: Path, out_path: Path, *, title: str, top: int = 30) -> dict:
    """Self and inclusive sample counts per function from py-spy's collapsed stacks, as text.

    Also what chatapp's own functions (and the WebSocket writer) spend their time on: the
    direct callees of each, which is where a flame graph's eye would go first.
    """
    self_counts: dict[str, int] = {}
    total_counts: dict[str, int] = {}
    callees: dict[str, dict[str, int]] = {}
    total = 0
    for line in raw_path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [f for f in (_frame_name(frame) for frame in stack.split(";")) if f]
        if not frames:
            continue
        self_counts[frames[-1]] = self_counts.get(frames[-1], 0) + count
        for frame in set(frames):
            total_counts[frame] = total_counts.get(frame, 0) + count
        seen: set[tuple[str, str]] = set()
        for caller, callee in zip(frames, frames[1:] + ["(itself)"]):
            if (caller, callee) not in seen:  # recursion counts once
                seen.add((caller, callee))
                callees.setdefault(caller, {})
                callees[caller][callee] = callees[caller].get(callee, 0) + count

    def share(count: int) -> str:
        return f"{100 * count / max(total, 1):6.1f}%"

    lines = [title, f"{total} samples at {PROFILE_HZ} Hz (py-spy record --nonblocking; time idle in the event hub is not sampled)", ""]
    for heading, counts in (("Self time (the function itself)", self_counts), ("Inclusive time (the function and what it calls)", total_counts)):
        lines += [heading, f"{'share':>7} {'samples':>8}  function (file)"]
        for frame, count in sorted(counts.items(), key=lambda item: -item[1])[:top]:
            lines.append(f"{share(count)} {count:8d}  {frame}")
        lines.append("")
    focus = [
        frame for frame, count in sorted(total_counts.items(), key=lambda item: -item[1])
        if ("(chatapp/" in frame or "_websocket_handler.<locals>.writer" in frame or frame.startswith("Manager.emit ("))
        and count >= total * 0.02
    ]
    lines += ["Where chatapp's own functions, the room broadcast and the WebSocket writer spend it (direct callees, inclusive)", ""]
    for frame in focus[:12]:
        lines.append(f"{share(total_counts[frame])}  {frame}")
        for callee, count in sorted(callees.get(frame, {}).items(), key=lambda item: -item[1])[:6]:
            if count >= total * 0.005:
                lines.append(f"    {share(count)}  {callee}")
        lines.append("")
    out_path.write_text("\n".join(lines))
    return {
        "samples": total,
        "top_self": [(f, c) for f, c in sorted(self_counts.items(), key=lambda item: -item[1])[:15]],
        "top_inclusive": [(f, c) for f, c in sorted(total_counts.items(), key=lambda item: -item[1])[:25]],
    }


def _frame_name(frame: str) -> str:
    """'send (eventlet/websocket.py:812)' -> 'send (eventlet/websocket.py)', paths shortened."""
    frame = frame.strip()
    match = re.match(r"^(.*?) \((.*?)(?::\d+)?\)$", frame)
    if not match:
        return frame
    function, path = match.groups()
    for marker in ("site-packages/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    else:
        path = path.replace(str(PROJECT_ROOT) + "/", "")
    return f"{function} ({path})"


def disturbance(measured: dict) -> float | None:
    """The largest share of the server's core that other processes used in a measured window."""
    values = [
        measured.get(key, {}).get("server_core_others") for key in ("cores", "saturate_cores")
    ]
    values = [v for v in values if v is not None]
    return max(values) if values else None
