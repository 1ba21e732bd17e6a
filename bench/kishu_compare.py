"""Side by side with Kishu (issue 15 §5): one small training notebook, run plain, under Kishu and
under ``%repro on``, in one bench run: per-cell overhead, store size after N epochs, time to restore
the state after epoch k.

Kishu (PyPI ``kishu``, PVLDB 2025) is never a dependency of this project: it lives in a throwaway
venv (``KISHU_PYTHON``, default ``/tmp/kishu-venv/bin/python``; made here with uv or venv+pip when
missing, torch pinned to the project's ``torch==2.13.0``), and its kernels run that venv's Python.
Where it cannot run, the result says why in one line and the rest is still measured.

Every kernel is driven the same way (``jupyter_client``, one execute request per cell, the wall time
until its reply, which comes after both tools' ``post_run_cell`` work), each tool against a plain
kernel of its own venv (same Python, same torch), so the overheads never compare two interpreters.
Kishu runs as its own tests run it headless (``ENV_KISHU_TEST_MODE``: no frontend saves, commit ids
``session:checkout:count``); its store is the ``NB.kishudb`` SQLite file beside the notebook, ours
the ``.repro`` folder. Restores happen in the kernel that ran the epochs (Kishu's ``checkout``, our
``%repro checkout``), and each is checked: the restored model's weight digest must be the one epoch k
printed, else the figure is reported as not verified.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from .kernel_driver import Kernel

KISHU_VERSION = "0.3.4"
TORCH = "torch==2.13.0"  # the project's pin (Makefile); never unpinned
DEFAULT_KISHU_PYTHON = "/tmp/kishu-venv/bin/python"

SETUP = """\
import hashlib, torch
torch.manual_seed(0)
torch.set_num_threads(1)
X = torch.randn(2048, 1, 28, 28)
y = torch.randint(0, 10, (2048,))
model = torch.nn.Sequential(
    torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Flatten(), torch.nn.Linear(16 * 7 * 7, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10),
)
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
losses = []


def weights_digest(m):
    raw = b"".join(t.detach().numpy().tobytes() for t in m.state_dict().values())
    return hashlib.sha256(raw).hexdigest()[:16]
"""

EPOCH = """\
for i in range(0, 2048, 256):
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(X[i:i + 256]), y[i:i + 256])
    loss.backward()
    opt.step()
losses.append(float(loss))
print({epoch}, weights_digest(model), losses[-1].hex())
"""

CHECK = (
    'print("check", len(losses), hashlib.sha256(b"".join(t.detach().numpy().tobytes() '
    "for t in model.state_dict().values())).hexdigest()[:16], losses[-1].hex())"
)


def _weights_of(line: str) -> tuple[int, str, str] | None:
    """(epoch or len(losses), weight digest, last loss) from an epoch cell's or the check cell's line."""
    parts = line.split()
    if parts and parts[0] == "check":
        parts = parts[1:]
    if len(parts) == 3 and parts[0].isdigit():
        return int(parts[0]), parts[1], parts[2]
    return None


def _notebook(path: Path, epochs: int) -> list[tuple[str, str]]:
    """Write the training notebook (setup, one cell per epoch) and return its (cell id, source)s."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    cells = [("setup", SETUP)] + [(f"epoch{e}", EPOCH.format(epoch=e)) for e in range(1, epochs + 1)]
    nb = new_notebook(cells=[new_code_cell(src, id=cid) for cid, src in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return cells


def _folder_bytes(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        if path.is_file():
            total += path.stat().st_size
        elif path.is_dir():
            total += sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return total


def _run_epochs(kernel: Kernel, cells: list[tuple[str, str]], after_cell: Any = None) -> dict[str, Any]:
    times, digests = [], {}
    for index, (cell_id, source) in enumerate(cells):
        result = kernel.run(source, cell_id)
        if result["error"]:
            raise RuntimeError(f"cell {cell_id}: {result['error']}")
        times.append(result["s"])
        parsed = _weights_of((result["stdout"].strip().splitlines() or [""])[-1])
        if parsed:
            digests[parsed[0]] = parsed
        if after_cell is not None:
            after_cell(index)
    return {"setup_s": times[0], "epoch_s": times[1:], "digests": digests}


def plain(python: str, folder: Path, epochs: int) -> dict[str, Any]:
    folder.mkdir(parents=True)
    cells = _notebook(folder / "train.ipynb", epochs)
    kernel = Kernel(python, folder, {"JPY_SESSION_NAME": str(folder / "train.ipynb")})
    try:
        return _run_epochs(kernel, cells)
    finally:
        kernel.close()


FLUSH = "from repro_jupyter.kernel_runner import flush_records\nflush_records(get_ipython())"


def ours(folder: Path, epochs: int, k: int) -> dict[str, Any]:
    folder.mkdir(parents=True)
    nb = folder / "train.ipynb"
    cells = _notebook(nb, epochs)
    kernel = Kernel(sys.executable, folder, {"JPY_SESSION_NAME": str(nb)})
    try:
        on = kernel.run("%load_ext repro_jupyter\n%repro on --seed 1", "repro-on")
        if on["error"]:
            raise RuntimeError(f"%repro on: {on['error']}")
        out = _run_epochs(kernel, cells)
        out["init_s"] = on["s"]
        flush = kernel.run(
            "from repro_jupyter.kernel_runner import flush_records\nflush_records(get_ipython())", "flush"
        )
        out["flush_s"] = flush["s"]
        out["store_bytes"] = _folder_bytes([folder / ".repro"])
        out["objects_bytes"] = _folder_bytes([folder / ".repro" / "objects"])
        restore = kernel.run(f"%repro checkout epoch{k}", "restore")
        if restore["error"]:
            raise RuntimeError(f"%repro checkout: {restore['error']}")
        out["restore_s"] = restore["s"]
        out["restore_says"] = _said(restore["stdout"])
        out["restored"] = _weights_of((kernel.run(CHECK)["stdout"].strip().splitlines() or [""])[-1])
        return out
    finally:
        kernel.close()


def kishu(python: str, folder: Path, epochs: int, k: int) -> dict[str, Any]:
    folder.mkdir(parents=True)
    nb = folder / "train.ipynb"
    cells = _notebook(nb, epochs)
    env = {"ENV_KISHU_TEST_MODE": "1", "KISHU_PATH_ROOT": str(folder), "JPY_SESSION_NAME": str(nb)}
    kernel = Kernel(python, folder, env)
    try:
        init = kernel.run(f"from kishu import init_kishu\ninit_kishu({str(nb)!r})", "kishu-init")
        # the hook installed by this very cell sees its end without its start: Kishu says so, harmlessly
        if init["error"] and not init["error"].startswith("PostWithoutPreError"):
            raise RuntimeError(f"init_kishu: {init['error']}")
        commits: dict[int, str] = {}

        def remember(index: int) -> None:  # the commit Kishu made for epoch ``index``
            commits[index] = kernel.value("_kishu._kishu_branch.get_head().commit_id").strip("'")

        out = _run_epochs(kernel, cells, remember)
        out["init_s"] = init["s"]
        out["commits"] = commits
        out["store_bytes"] = _folder_bytes(sorted(folder.glob("train.kishudb*")))
        out["stored"], out["unserializable"] = _kishu_contents(folder / "train.kishudb")
        restore = kernel.run(f"_kishu.checkout({commits[k]!r})", "restore")
        if restore["error"]:
            raise RuntimeError(f"_kishu.checkout: {restore['error']}")
        out["restore_s"] = restore["s"]
        out["restore_says"] = _said(restore["stdout"])
        out["restored"] = _weights_of((kernel.run(CHECK)["stdout"].strip().splitlines() or [""])[-1])
        return out
    finally:
        kernel.close()


def _kishu_contents(db: Path) -> tuple[list[str], list[str]]:
    """What Kishu's store holds (variable snapshots) and the co-variables it found it cannot store
    (size ``inf`` in its AHG: it re-runs their cells on checkout instead)."""
    import sqlite3

    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            stored = {
                r[0].split(",", 1)[1] for r in con.execute("select versioned_name from variable_snapshot")
            }
            inf = {
                r[0].split(",", 1)[1]
                for r in con.execute("select versioned_name, size from ahg_variable_snapshot")
                if r[1] == float("inf")
            }
        finally:
            con.close()
    except (sqlite3.Error, IndexError) as exc:
        return [f"unreadable: {exc}"], []
    return sorted(stored), sorted(inf)


def _said(stdout: str) -> list[str]:
    """A restore's first lines, without terminal colours, cut."""
    import re

    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line)[:200] for line in stdout.strip().splitlines()]
    return [line for line in lines if line.strip()][:4]


def kishu_python() -> tuple[str | None, str | None]:
    """The Python of a venv with Kishu (made when missing), or (None, why not in one line)."""
    python = os.environ.get("KISHU_PYTHON", DEFAULT_KISHU_PYTHON)
    check = [python, "-c", "import kishu, torch, ipykernel; print(kishu.__version__, torch.__version__)"]
    if not Path(python).exists() and "KISHU_PYTHON" not in os.environ:
        venv = Path(python).parent.parent
        if shutil.which("uv"):
            steps = [
                ["uv", "venv", str(venv), "--python", "3.11"],
                ["uv", "pip", "install", "--python", python, f"kishu=={KISHU_VERSION}", TORCH, "ipykernel"],
            ]
        else:
            steps = [
                [sys.executable, "-m", "venv", str(venv)],
                [python, "-m", "pip", "install", "-q", f"kishu=={KISHU_VERSION}", TORCH, "ipykernel"],
            ]
        for step in steps:
            try:
                done = subprocess.run(step, capture_output=True, text=True, timeout=900)
            except (OSError, subprocess.TimeoutExpired) as exc:
                return None, f"kishu not run: making its venv failed ({' '.join(step[:3])}: {exc})"
            if done.returncode != 0:
                last = (done.stderr.strip().splitlines() or ["no message"])[-1]
                return None, f"kishu not run: making its venv failed ({' '.join(step[:3])}: {last[:160]})"
    try:
        done = subprocess.run(check, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"kishu not run: {python} cannot start ({exc})"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return None, f"kishu not run: {python} has no working kishu/torch/ipykernel ({last[:160]})"
    return python, None


def _overhead(tool: list[float], base: list[float]) -> dict[str, float]:
    """Per-cell overhead: the median over epochs of (tool - plain), epoch by epoch."""
    diffs = [t - b for t, b in zip(tool, base, strict=True)]
    return {
        "median_ms": round(statistics.median(diffs) * 1000, 1),
        "plain_epoch_ms": round(statistics.median(base) * 1000, 1),
        "tool_epoch_ms": round(statistics.median(tool) * 1000, 1),
        "ratio": round(statistics.median(tool) / statistics.median(base), 3),
    }


def _verified(run: dict[str, Any], k: int) -> bool:
    """After the restore: k losses, the last one epoch k's, and the weights epoch k printed."""
    restored = run.get("restored")
    expected = run["digests"].get(k) or run["digests"].get(str(k)) or ()
    return bool(restored) and tuple(restored) == tuple(expected)


def run(quick: bool, repeats: int) -> dict[str, Any]:
    epochs = 4 if quick else 10
    k = epochs // 2
    root = Path(tempfile.mkdtemp(prefix="bench-kishu-"))
    out: dict[str, Any] = {"epochs": epochs, "restore_after_epoch": k, "kishu_version": KISHU_VERSION}
    python, why = kishu_python()
    runs: dict[str, list[dict[str, Any]]] = {"plain": [], "ours": [], "plain_kishu_venv": [], "kishu": []}
    for r in range(repeats):
        runs["plain"].append(plain(sys.executable, root / f"plain{r}", epochs))
        runs["ours"].append(ours(root / f"ours{r}", epochs, k))
        if python is not None and why is None:
            runs["plain_kishu_venv"].append(plain(python, root / f"plain-kishu{r}", epochs))
            try:
                runs["kishu"].append(kishu(python, root / f"kishu{r}", epochs, k))
            except Exception as exc:  # Kishu failing is a result, not a crash of the bench
                why = f"kishu failed: {' '.join(str(exc).split())[:200]}"
    for items in runs.values():
        for item in items:
            item["epoch_s"] = [round(s, 4) for s in item["epoch_s"]]
    out["runs"] = runs
    out["summary"] = summarise(runs, k, why)
    if why:
        print(why, file=sys.stderr)
    shutil.rmtree(root, ignore_errors=True)
    return out


def summarise(runs: dict[str, list[dict[str, Any]]], k: int, why: str | None) -> dict[str, Any]:
    """Medians over repeats (also from a results.json: digests' keys may have become strings)."""
    summary: dict[str, Any] = {}
    ours_runs = runs["ours"]
    summary["ours_overhead_ms"] = statistics.median(
        _overhead(o["epoch_s"], p["epoch_s"])["median_ms"]
        for o, p in zip(ours_runs, runs["plain"], strict=True)
    )
    summary["ours_store_MB"] = round(statistics.median(o["store_bytes"] for o in ours_runs) / 1e6, 3)
    summary["ours_restore_ms"] = round(statistics.median(o["restore_s"] for o in ours_runs) * 1000, 1)
    summary["ours_restore_verified"] = all(_verified(o, k) for o in ours_runs)
    summary["ours_restore_notes"] = sorted({x.strip() for o in ours_runs for x in o["restore_says"][1:]})
    summary["plain_epoch_ms"] = round(
        statistics.median(s for p in runs["plain"] for s in p["epoch_s"]) * 1000, 1
    )
    if runs["kishu"]:
        kishu_runs = runs["kishu"]
        summary["kishu_overhead_ms"] = statistics.median(
            _overhead(o["epoch_s"], p["epoch_s"])["median_ms"]
            for o, p in zip(kishu_runs, runs["plain_kishu_venv"], strict=True)
        )
        summary["kishu_store_MB"] = round(statistics.median(o["store_bytes"] for o in kishu_runs) / 1e6, 3)
        summary["kishu_restore_ms"] = round(statistics.median(o["restore_s"] for o in kishu_runs) * 1000, 1)
        summary["kishu_restore_verified"] = all(_verified(o, k) for o in kishu_runs)
        summary["kishu_restored_losses"] = sorted({o["restored"][0] for o in kishu_runs if o.get("restored")})
        summary["kishu_unstorable"] = sorted({v for o in kishu_runs for v in o.get("unserializable", [])})
        summary["kishu_store_over_ours"] = round(summary["kishu_store_MB"] / summary["ours_store_MB"], 2)
        summary["kishu_restore_over_ours"] = round(
            summary["kishu_restore_ms"] / summary["ours_restore_ms"], 2
        )
    if why:
        summary["kishu_not_run"] = why
    return summary


ROWS = [  # (label, ours key, Kishu key, unit)
    (
        "per-cell overhead vs a plain kernel of the same venv (ms, median of epochs)",
        "ours_overhead_ms",
        "kishu_overhead_ms",
    ),
    ("store after the epochs (MB)", "ours_store_MB", "kishu_store_MB"),
    ("restore the state after epoch k, in the same kernel (ms)", "ours_restore_ms", "kishu_restore_ms"),
    ("restored state is epoch k's (weights, losses)", "ours_restore_verified", "kishu_restore_verified"),
]


def markdown(results: dict[str, Any]) -> str:
    """The README's side-by-side table, from ``results.json`` (figures are never typed by hand)."""
    scenario = (results.get("scenarios") or {}).get("kishu_compare")
    if not scenario:
        return "Not measured yet: `python -m bench --only kishu_compare --merge`."
    summary, m = scenario["summary"], results["machine"]
    lines = [
        f"Run {m['date']}, commit {m['commit']}, {m['cpus']} CPUs, {scenario['epochs']} epochs, "
        f"restore after epoch {scenario['restore_after_epoch']}, Kishu {scenario['kishu_version']}; "
        f"a plain epoch takes {summary['plain_epoch_ms']} ms.",
        "",
        "| measure | `%repro on` | Kishu |",
        "|---|---|---|",
    ]
    for label, ours_key, kishu_key in ROWS:
        lines.append(f"| {label} | {summary.get(ours_key, '—')} | {summary.get(kishu_key, '—')} |")
    if summary.get("kishu_not_run"):
        lines.append(f"\nKishu: {summary['kishu_not_run']}")
    return "\n".join(lines)


def render(readme: Path, results_path: Path) -> str:
    import json
    import re

    block = f"<!-- kishu:start -->\n{markdown(json.loads(results_path.read_text()))}\n<!-- kishu:end -->"
    text = readme.read_text()
    readme.write_text(re.sub(r"<!-- kishu:start -->.*<!-- kishu:end -->", lambda _: block, text, flags=re.S))
    return block


if __name__ == "__main__":  # --render: README table from results.json; else one quick run, printed
    import json

    here = Path(__file__).parent
    if "--render" in sys.argv:
        print(render(here / "README.md", here / "results.json"))
    else:
        print(json.dumps(run(quick="--quick" in sys.argv, repeats=1)["summary"], indent=1))
