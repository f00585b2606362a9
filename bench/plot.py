"""The PNG plots of a run's results (matplotlib, when installed)."""
from __future__ import annotations

from pathlib import Path

from plan import ALL_SERVERS, CHATAPP, CHATAPP_2PROC, CHATAPP_DEFLATE, CHATAPP_NODELAY, NODE, PYTHON_BASELINE, SHORT_LABELS
from report import _find, server_cpu_per_unit

COLORS = {CHATAPP.name: "#1f77b4", CHATAPP_2PROC.name: "#d62728", CHATAPP_DEFLATE.name: "#ff7f0e", CHATAPP_NODELAY.name: "#9467bd",
          PYTHON_BASELINE.name: "#8c564b", NODE.name: "#2ca02c"}


def plot(report: dict, out: Path) -> list[str]:
    """PNG plots of the results; [] if matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("  matplotlib is not installed: no plots", flush=True)
        return []
    runs = report["runs"]
    labels = {kind.name: kind.label for kind in ALL_SERVERS}
    made = []

    def grouped(ax, scenario: str, groups: list, key, servers: list[str], *, param: str) -> None:
        """Bars of key(run) per group (a parameter value), one bar per server."""
        width = 0.8 / max(len(servers), 1)
        for i, server in enumerate(servers):
            xs, ys = [], []
            for j, value in enumerate(groups):
                run = _find(runs, scenario, server, **{param: value})
                y = key(run) if run else None
                if y is not None:
                    xs.append(j + (i - (len(servers) - 1) / 2) * width)
                    ys.append(y)
            ax.bar(xs, ys, width, label=labels[server], color=COLORS[server])

    fan = [run for run in runs if run["scenario"] == "fanout"]
    if fan:
        sizes = sorted({run["params"]["clients"] for run in fan})
        servers = [k.name for k in ALL_SERVERS if any(run["server"] == k.name for run in fan)]
        rate = {s: (_find(runs, "fanout", servers[0], clients=s) or {}).get("params", {}).get("rate") for s in sizes}
        fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
        grouped(axes[0], "fanout", sizes, lambda run: (run["result"].get("saturation") or {}).get("delivered_per_s"), servers, param="clients")
        axes[0].set_xticks(range(len(sizes)), [f"C={s}" for s in sizes])
        axes[0].set_ylabel("delivered messages/s")
        axes[0].set_title("Max delivered messages/s (full load)")
        grouped(axes[1], "fanout", sizes, lambda run: run["result"]["latency_ms"]["p99"], servers, param="clients")
        width = 0.8 / max(len(servers), 1)
        for i, server in enumerate(servers):
            for j, size in enumerate(sizes):
                run = _find(runs, "fanout", server, clients=size)
                if run and run["result"]["latency_ms"]["p50"] is not None:
                    axes[1].plot(j + (i - (len(servers) - 1) / 2) * width, run["result"]["latency_ms"]["p50"], "k_", markersize=12, mew=2)
        axes[1].set_yscale("log")
        axes[1].set_xticks(range(len(sizes)), [f"C={s}, R={rate[s]}/s" for s in sizes])
        axes[1].set_ylabel("send → receipt latency, ms (log)")
        axes[1].set_title("Latency at a fixed rate R: bars p99, ticks p50")
        grouped(axes[2], "fanout", sizes, lambda run: server_cpu_per_unit(run, saturation=True), servers, param="clients")
        axes[2].set_xticks(range(len(sizes)), [f"C={s}" for s in sizes])
        axes[2].set_ylabel("server CPU µs per delivered message")
        axes[2].set_title("Server CPU per delivery (full load)")
        handles, names = axes[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="lower center", ncol=len(names), fontsize=9, frameon=False)
        fig.suptitle("Fan-out: one sender into one room of C WebSocket clients")
        fig.tight_layout(rect=(0, 0.07, 1, 0.95))
        fig.savefig(out / "fanout.png", dpi=100)
        plt.close(fig)
        made.append("fanout.png")

        size = sizes[len(sizes) // 2]
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for server in servers:
            run = _find(runs, "fanout", server, clients=size)
            if run and run["result"]["latency_cdf_ms"]:
                qs = [q for q, _ in run["result"]["latency_cdf_ms"]]
                vs = [max(v, 0.01) for _, v in run["result"]["latency_cdf_ms"]]
                ax.plot(vs, qs, color=COLORS[server], label=labels[server])
        ax.set_xscale("log")
        ax.set_xlabel("send → receipt latency, ms (log)")
        ax.set_ylabel("fraction of deliveries")
        ax.set_title(f"Fan-out latency CDF, C={size}, R={rate[size]}/s")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "fanout-cdf.png", dpi=100)
        plt.close(fig)
        made.append("fanout-cdf.png")

    wr = [run for run in runs if run["scenario"] == "write"]
    co = [run for run in runs if run["scenario"] == "connections" and "bytes_per_connection" in run.get("server_proc", {})]
    po = [run for run in runs if run["scenario"] == "polling"]
    if wr or co or po:
        fig, axes = plt.subplots(1, 4, figsize=(18, 4.5))
        if wr:
            levels = sorted({run["params"]["senders"] for run in wr})
            wservers = [k.name for k in ALL_SERVERS if any(run["server"] == k.name for run in wr)]
            grouped(axes[0], "write", levels, lambda run: run["result"]["acked_per_s"], wservers, param="senders")
            axes[0].set_yscale("log")
            axes[0].set_xticks(range(len(levels)), [f"S={n} sender{'s' if n > 1 else ''}" for n in levels])
            axes[0].set_ylabel("acked sends/s (log)")
            axes[0].set_title("Write path: acked sends/s")
            axes[0].legend(fontsize=7)
            grouped(axes[1], "write", levels, lambda run: run["result"]["ack_latency_ms"]["p50"], wservers, param="senders")
            axes[1].set_yscale("log")
            axes[1].set_xticks(range(len(levels)), [f"S={n}" for n in levels])
            axes[1].set_ylabel("ack latency p50, ms (log)")
            axes[1].set_title("Write path: ack latency (p50)")
        if co:
            names = [run["server"] for run in co]
            axes[2].bar(range(len(co)), [run["server_proc"]["bytes_per_connection"] / 1024 for run in co], color=[COLORS[n] for n in names])
            axes[2].set_xticks(range(len(co)), [SHORT_LABELS[n] for n in names], fontsize=8)
            axes[2].set_ylabel("KiB of server RSS per idle connection")
            axes[2].set_title("Idle WebSockets held\n" + ", ".join(f"{SHORT_LABELS[run['server']].split(chr(10))[0]} {run['result']['connected']}" for run in co), fontsize=10)
        if po:
            names = [run["server"] for run in po]
            axes[3].bar(range(len(po)), [run["result"]["latency_ms"]["p99"] or 0 for run in po], color=[COLORS[n] for n in names])
            axes[3].plot(range(len(po)), [run["result"]["latency_ms"]["p50"] or 0 for run in po], "k_", markersize=20, mew=2)
            for i, run in enumerate(po):
                value = run.get("server_proc", {}).get("cpu_utilization")
                if value is not None:
                    axes[3].annotate(f"server CPU {value:.2f}", (i, run["result"]["latency_ms"]["p99"] or 0), ha="center", va="bottom", fontsize=8)
            axes[3].set_xticks(range(len(po)), [SHORT_LABELS[n] for n in names], fontsize=8)
            axes[3].set_ylabel("latency, ms (bars p99, ticks p50)")
            axes[3].set_title(f"Long-polling: {po[0]['result']['clients']} clients, {po[0]['result']['offered_rate']} msg/s")
            axes[3].margins(y=0.2)
        fig.text(0.01, 0.01, "* experiment, not the app: wsgi.py with TCP_NODELAY on the listening socket (bench/chatapp_nodelay.py)", fontsize=8)
        fig.tight_layout(rect=(0, 0.04, 1, 1))
        fig.savefig(out / "write-connections-polling.png", dpi=100)
        plt.close(fig)
        made.append("write-connections-polling.png")

    hi = [run for run in runs if run["scenario"] == "history"]
    if hi:
        run = hi[-1]
        bars = [("in-process\nrandom page", run["service"]["random_page_ms"]), ("in-process\nnewest page", run["service"]["newest_page_ms"]),
                ("end to end\nrandom page", run["result"]["random_page_ms"]), ("end to end\nnewest page", run["result"]["newest_page_ms"])]
        if run.get("service_without_index"):
            bars.append(("in-process, index\ndropped, random", run["service_without_index"]["random_page_ms"]))
        fig, ax = plt.subplots(figsize=(9, 4.5))
        ax.bar(range(len(bars)), [b["p99"] or 0 for _, b in bars], color=COLORS[CHATAPP.name], alpha=0.45, label="p99")
        ax.bar(range(len(bars)), [b["p50"] or 0 for _, b in bars], color=COLORS[CHATAPP.name], label="median")
        ax.axhline(5, color="k", linestyle="--", linewidth=1, label="target: median 5 ms")
        ax.set_xticks(range(len(bars)), [label for label, _ in bars], fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("ms per 50-message page (log)")
        ax.set_title(f"History paging, room of {run['build']['messages_in_room']:,} messages")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "history.png", dpi=100)
        plt.close(fig)
        made.append("history.png")
    return made
