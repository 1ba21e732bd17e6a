"""Render bench/results.json as the markdown table in bench/README.md (figures are never typed by hand)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).parent
ROWS = [  # (scenario, summary key, label, target, better)
    (
        "capture_overhead",
        "small_state_overhead_ms",
        "per-cell overhead, ~100 small variables (ms)",
        1.0,
        "lower",
    ),
    (
        "capture_overhead",
        "big_untouched_overhead_ms",
        "per-cell overhead, big array untouched (ms)",
        1.0,
        "lower",
    ),
    (
        "capture_overhead",
        "big_referenced_ratio_to_raw_xxh3",
        "big array referenced: time / raw xxh3 pass",
        1.3,
        "lower",
    ),
    (
        "capture_overhead",
        "big_changed_foreground_ms",
        "big array changed in place: until the cell returns (ms)",
        200,
        "lower",
    ),
    (
        "capture_overhead",
        "big_changed_durable_over_raw_write",
        "big array changed in place: durable / raw write+fsync",
        1.3,
        "lower",
    ),
    (
        "capture_overhead",
        "big_changed_back_to_back_ms",
        "big array changed in place, cells back to back (ms per cell)",
        None,
        "lower",
    ),
    (
        "capture_overhead",
        "kernel_overhead_per_cell_ms",
        "through a kernel: per-cell slope (ms)",
        None,
        "lower",
    ),
    (
        "capture_overhead",
        "kernel_fixed_overhead_ms",
        "through a kernel: fixed cost per kernel (ms)",
        None,
        "lower",
    ),
    ("fingerprint_throughput", "ours_vs_raw_xxh3", "fingerprint throughput / raw xxh3-128", 0.8, "higher"),
    ("fingerprint_throughput", "speedup_vs_naive", "fingerprint speed-up vs pickle+sha256", 10.0, "higher"),
    (
        "checkpoint_io",
        "foreground_ms_per_GiB",
        "checkpoint foreground snapshot, reused buffer (ms per GiB)",
        200,
        "lower",
    ),
    (
        "checkpoint_io",
        "first_snapshot_ms_per_GiB",
        "checkpoint first snapshot, fresh memory (ms per GiB)",
        None,
        "lower",
    ),
    ("checkpoint_io", "durable_over_np_save_fsync", "checkpoint durable / np.save+fsync", 1.3, "lower"),
    ("checkpoint_io", "dill_over_ours", "dill+fsync time / ours (>1: we are faster)", None, "higher"),
    ("checkpoint_io", "lazy_open_ms", "lazy (mmap) restore latency (ms)", None, "lower"),
    (
        "checkpoint_io",
        "store_growth_dill_over_ours",
        "store growth, training loop: per-cell pickle / ours",
        4.55,
        "higher",
    ),
    ("env_capture", "first_capture_ms", "environment: first capture (ms)", None, "lower"),
    ("env_capture", "per_cell_recheck_us", "environment: per-cell re-check (µs)", None, "lower"),
    ("env_capture", "pip_freeze_over_first_capture", "pip freeze / our first capture", None, "higher"),
    ("env_capture", "watermark_over_first_capture", "watermark / our first capture", None, "higher"),
    ("verify_cost", "verify_over_plain_total", "verify / plain nbclient, corpus", 1.10, "lower"),
    (
        "verify_cost",
        "nbval_over_plain_total",
        "pytest --nbval / plain nbclient, same notebooks",
        None,
        "lower",
    ),
    ("verify_cost", "verify_reproduced", "corpus notebooks reproduced: repro verify", None, "higher"),
    ("verify_cost", "nbval_passed", "corpus notebooks passed: nbval (no sanitizer)", None, "higher"),
    ("store_growth", "run_s", "10,000 one-line cells through a kernel: run time (s)", 300, "lower"),
    ("store_growth", "store_MB", "10,000 one-line cells: store size (MB)", 50, "lower"),
    (
        "store_growth",
        "record_growth_last_over_first",
        "10,000 one-line cells: record size, last tenth / first tenth",
        1.3,
        "lower",
    ),
]


def table(results: dict) -> str:
    lines = ["| measure | value | target | met |", "|---|---|---|---|"]
    for scenario, key, label, target, better in ROWS:
        summary = (results["scenarios"].get(scenario) or {}).get("summary") or {}
        value = summary.get(key)
        if value is None:
            continue
        met = ""
        if target is not None:
            ok = value <= target if better == "lower" else value >= target
            met = "yes" if ok else "**no**"
        lines.append(f"| {label} | {value} | {target if target is not None else '—'} | {met} |")
    return "\n".join(lines)


def main() -> int:
    results = json.loads((HERE / "results.json").read_text())
    m = results["machine"]
    header = (
        f"Run {m['date']}, commit {m['commit']}, Python {m['python']}, {m['cpus']} CPUs "
        f"({'quick' if results['quick'] else 'full'} mode)."
    )
    block = f"<!-- results:start -->\n{header}\n\n{table(results)}\n<!-- results:end -->"
    readme = HERE / "README.md"
    text = readme.read_text()
    text = re.sub(r"<!-- results:start -->.*<!-- results:end -->", lambda _: block, text, flags=re.S)
    readme.write_text(text)
    print(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
