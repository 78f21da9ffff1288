"""PNG plots (matplotlib, Agg): Pareto (retention with its interval vs $/1M output tokens, per task class and the
pooled ``general`` row) and latency / throughput with their spread across reps."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _measured(rows: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [r for r in rows if r["kind"] == "self_hosted" and r.get("output_usd_per_1m")]


def pareto_front(points: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """Points (cost, retention, name) not dominated by a cheaper-or-equal point with higher-or-equal retention."""
    front, best = [], -math.inf
    for c, q, n in sorted(points, key=lambda p: (p[0], -p[1])):
        if q > best:
            front.append((c, q, n))
            best = q
    return front


def plot_pareto(
    rows: list[Mapping[str, Any]], task_classes: list[str], floor: float, out: Path, title: str = ""
) -> Path | None:
    fig = pareto_figure(rows, task_classes, floor, title)
    return save_figure(fig, out) if fig is not None else None


def save_figure(fig, out: Path) -> Path:
    """The one way a costlab plot is written: PNG at 110 dpi (parent dirs made), figure closed."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def pareto_figure(rows: list[Mapping[str, Any]], task_classes: list[str], floor: float, title: str = ""):
    rows = _measured(rows)
    if not rows or not task_classes:
        return None
    n = len(task_classes)
    cols = min(3, n)
    nrows = math.ceil(n / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(5 * cols, 3.8 * nrows + 0.8), squeeze=False)
    names = sorted({f"{r['model']}@{r['hardware']}" for r in rows})
    cmap = plt.get_cmap("tab20" if len(names) > 10 else "tab10")
    color = {nm: cmap(i % cmap.N) for i, nm in enumerate(names)}  # one color per variant in every panel
    for ax, tc in zip(axes.flat, task_classes):
        pts, bars = [], []
        for r in rows:
            e = (r.get("quality_retention_ci") or {}).get(tc) or {}
            q = e.get("retention", (r.get("quality_retention") or {}).get(tc))
            if not isinstance(q, (int, float)):
                continue
            name = f"{r['model']}@{r['hardware']}"
            pts.append((float(r["output_usd_per_1m"]), float(q), name))
            lo, hi = e.get("retention_lo"), e.get("retention_hi")
            bars.append(
                (
                    max(0.0, q - lo) if lo is not None else None,
                    max(0.0, hi - q) if hi is not None else None,
                    e.get("measurable", True),
                )
            )
        for (c, q, name), (dlo, dhi, meas) in zip(pts, bars):
            ax.errorbar(
                [c],
                [q],
                yerr=[[dlo if dlo is not None else 0.0], [dhi if dhi is not None else 0.0]],
                fmt="o" if meas else "x",
                ms=6,
                color=color[name],
                capsize=3,
                lw=1,
                zorder=3,
            )
        front = pareto_front(pts)
        if len(front) > 1:
            ax.plot([p[0] for p in front], [p[1] for p in front], "--", lw=1, color="gray", zorder=2)
        ax.axhline(floor, color="red", lw=0.8, ls=":")
        ax.set_xscale("log")
        meas_all = all(b[2] for b in bars)
        ax.set_title(
            tc
            if pts and meas_all
            else f"{tc} (not measurable: reference at chance)"
            if pts
            else f"{tc} (no retention measured)"
        )
        ax.set_xlabel("$ / 1M output tokens (log)")
        ax.set_ylabel("retention vs reference [CI]")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    handles = [plt.Line2D([], [], marker="o", ls="", color=color[nm], label=nm.replace("@", " @ ")) for nm in names]
    fig.legend(handles=handles, loc="lower center", ncol=min(4, len(names)), fontsize=8, frameon=False)
    fig.suptitle(
        title
        or "Quality retained vs cost: point and paired-bootstrap interval (dashed: Pareto front of "
        "points, red: quality floor; a candidate's lower bar end is above it)"
    )
    fig.tight_layout(rect=(0, 0.04 + 0.025 * math.ceil(len(names) / 4), 1, 1))
    return fig


def plot_latency(rows: list[Mapping[str, Any]], out: Path, title: str = "") -> Path | None:
    fig = latency_figure(rows, title)
    return save_figure(fig, out) if fig is not None else None


def latency_figure(rows: list[Mapping[str, Any]], title: str = ""):
    rows = sorted(_measured(rows), key=lambda r: r["model"])
    if not rows:
        return None
    names = [f"{r['model']}\n{r['hardware']}" for r in rows]
    x = list(range(len(rows)))
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(max(8, 1.1 * len(rows) * 2), 4.2))
    ttft = [r.get("ttft_ms_p50") or 0 for r in rows]
    a1.bar(x, ttft, color="tab:blue", label="p50")
    a1.errorbar(
        x,
        ttft,
        yerr=[[0] * len(rows), [max(0.0, (r.get("ttft_ms_p95") or t) - t) for r, t in zip(rows, ttft)]],
        fmt="none",
        ecolor="black",
        capsize=4,
        label="p50 → p95 over reps",
    )
    a1.set_ylabel("TTFT (ms)")
    a1.legend(fontsize=7)
    dec = [r.get("decode_tok_s") or 0 for r in rows]
    lo = [
        max(0.0, d - (r.get("decode_tok_s_min") if r.get("decode_tok_s_min") is not None else d))
        for r, d in zip(rows, dec)
    ]
    hi = [
        max(0.0, (r.get("decode_tok_s_max") if r.get("decode_tok_s_max") is not None else d) - d)
        for r, d in zip(rows, dec)
    ]
    a2.bar(x, dec, color="tab:green", label="p50 (the cost basis)")
    a2.errorbar(x, dec, yerr=[lo, hi], fmt="none", ecolor="black", capsize=4, label="min – max over reps")
    a2.set_ylabel("decode tokens/s")
    a2.legend(fontsize=7)
    for ax in (a1, a2):
        ax.set_xticks(x)
        ax.set_xticklabels(names)
    for ax in (a1, a2):
        ax.tick_params(axis="x", labelrotation=60, labelsize=7)
    fig.suptitle(title or "Latency and throughput per variant")
    fig.tight_layout()
    return fig
