"""Seed sensitivity: run a notebook under N master seeds and report each number's spread.

A result that holds for one seed may not hold for the next; reporting min /
median / max over seeds is what our seed documents (and ML reviewers) ask for.
Numbers are taken from text outputs with the same tokenizer the drift engine
uses, and lined up by (cell, output, position) wherever the text around them
is the same in every run.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from .compare.clocks import mask_own_clocks
from .compare.normalize import coalesce_streams, join_text, normalize_text
from .compare.numeric import tokenize
from .errors import ExecutionError
from .headless import run_notebook
from .notebook_io import read_notebook
from .schema import METADATA_KEY
from .store.location import scratch_store


def _texts(cell: Any) -> list[str]:
    out = []
    for output in coalesce_streams(list(cell.get("outputs", []))):
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            out.append(join_text(output.get("text", "")))
        elif output.get("output_type") in ("execute_result", "display_data"):
            text = (output.get("data") or {}).get("text/plain")
            out.append(join_text(text) if text is not None else "")
        else:
            out.append("")
    return out


def _context(skeleton: list[str], numbers: list[Any], pos: int) -> str:
    """The output line holding number ``pos``, that number shown as ``▢``, others as in run 1."""
    parts: list[str] = []
    for i, literal in enumerate(skeleton):
        parts.append(literal)
        if i < len(numbers):
            parts.append("\x00" if i == pos else numbers[i].text)
    text = "".join(parts)
    marker = text.index("\x00")
    start = text.rfind("\n", 0, marker) + 1
    end = text.find("\n", marker)
    line = text[start : end if end != -1 else len(text)].replace("\x00", "▢").strip()
    return line[:70]


def seed_sensitivity(
    path: Path, seeds: list[int], timeout: int = 600, kernel: str | None = None
) -> dict[str, Any]:
    """Run the notebook once per master seed (fresh kernels, scratch store) and list each output
    number that varies with the seed: min, median, max; ExecutionError when a run fails."""
    nb = read_notebook(path)
    runs = []
    windows = []  # when each run ran: a clock it printed is not a seed-dependent number
    with scratch_store():
        for seed in seeds:
            started = time.time()
            executed, _meta, failure = run_notebook(
                path,
                path.parent / f".{path.stem}.sensitivity.ipynb",
                seed=seed,
                timeout=timeout,
                kernel_name=kernel,
                nb=read_notebook(path),
            )
            if failure:
                raise ExecutionError(f"seed {seed}: {failure}")
            runs.append(executed)
            windows.append((started, time.time()))
    cells = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        per_run = [
            [mask_own_clocks(text, window) for text in _texts(run.cells[index])]
            for run, window in zip(runs, windows, strict=True)
        ]
        numbers = []
        for out_index in range(min(len(t) for t in per_run) if per_run else 0):
            tokens = [tokenize(normalize_text(t[out_index])) for t in per_run]
            skeletons = {tuple(" ".join(part.split()) for part in sk) for sk, _ in tokens}
            if len(skeletons) != 1:
                continue  # the text itself changed with the seed: positions do not line up
            skeleton = tokens[0][0]
            for pos in range(len(tokens[0][1])):
                values = [nums[pos].value for _, nums in tokens]
                if len(set(values)) == 1:
                    continue  # not seed-dependent
                context = _context(skeleton, tokens[0][1], pos)
                numbers.append(
                    {
                        "output_index": out_index,
                        "position": pos,
                        "context": context,
                        "values": values,
                        "min": min(values),
                        "median": statistics.median(values),
                        "max": max(values),
                    }
                )
        if numbers:
            cells.append({"index": index, "id": cell.get("id"), "numbers": numbers})
    return {
        "kind": "seed_sensitivity",
        "notebook": str(path),
        "seeds": seeds,
        "cells": cells,
        "recorded_master_seed": (nb.metadata.get(METADATA_KEY) or {}).get("master_seed"),
    }
