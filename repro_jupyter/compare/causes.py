"""Ranking the likely causes of a drifting cell.

Joins what was recorded with what happened now: the cell's record (seed, RNG
states, inputs, params, unseeded sources, warnings, source digest), the two
environments, and the earlier cells (drift flows downstream through the
variables a cell reads).  Scores are ordinal: a change that directly feeds the
cell (its data, its seed, its code) outranks a change in the machine.  When
nothing recorded explains a drift, the report says so instead of guessing.
"""

from __future__ import annotations

from typing import Any

from ..cell_source import source_changed

Cause = dict[str, Any]

ENV_SCORES = {
    "python": ("python_change", 0.6),
    "os": ("os_change", 0.35),
    "cpu": ("cpu_change", 0.45),
    "gpu": ("gpu_change", 0.55),
    "torch": ("gpu_change", 0.55),
    "threads": ("threads_change", 0.4),
    "env_vars": ("env_var_change", 0.3),
}


# recorded settings (a cell record's deterministic_settings) that change numerical results, by the name a
# user writes to change them; a difference is named with both values (CUBLAS_WORKSPACE_CONFIG included:
# cuBLAS reads it when the CUDA context is created)
RESULT_SETTINGS = {
    "cuda_matmul_allow_tf32": "torch.backends.cuda.matmul.allow_tf32",
    "cudnn_allow_tf32": "torch.backends.cudnn.allow_tf32",
    "float32_matmul_precision": "torch.get_float32_matmul_precision()",
    "cuda_matmul_fp32_precision": "torch.backends.cuda.matmul.fp32_precision",
    "cudnn_fp32_precision": "torch.backends.cudnn.fp32_precision",
    "cudnn_benchmark": "torch.backends.cudnn.benchmark",
    "cudnn_deterministic": "torch.backends.cudnn.deterministic",
    "torch_deterministic_algorithms": "torch.are_deterministic_algorithms_enabled()",
    "torch_deterministic_warn_only": "torch.is_deterministic_algorithms_warn_only_enabled()",
    "CUBLAS_WORKSPACE_CONFIG": "CUBLAS_WORKSPACE_CONFIG",
}


def settings_changes(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[str]:
    """``flag old -> new`` for every result-changing setting recorded in both records that differs.

    A flag only one record has (torch not imported in one run) is not a change of that flag.
    """
    old, new = old or {}, new or {}
    return [
        f"{label} {old[key]!r} -> {new[key]!r}"
        for key, label in RESULT_SETTINGS.items()
        if key in old and key in new and old[key] != new[key]
    ]


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _changes_text(changes: list[dict[str, Any]], limit: int = 4) -> str:
    parts = [f"{c['key']} {c['old']} -> {c['new']}" for c in changes[:limit]]
    more = f" (+{len(changes) - limit} more)" if len(changes) > limit else ""
    return "; ".join(parts) + more


def _inputs_changed(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[str]:
    before = {i["path"]: i.get("digest") for i in old or []}
    after = {i["path"]: i.get("digest") for i in new or []}
    return [p for p in sorted(set(before) | set(after)) if before.get(p) != after.get(p)]


def rank_causes(
    *,
    source: str,
    old_record: dict[str, Any] | None,
    new_record: dict[str, Any] | None,
    env_diff: dict[str, list[dict[str, Any]]],
    upstream: Cause | None,
    flaky: bool,
    recorded: bool,
) -> list[Cause]:
    """Causes for one drifting cell, most likely first (never empty)."""
    causes: list[Cause] = []
    if flaky:
        causes.append(
            {
                "kind": "nondeterministic_here",
                "score": 0.97,
                "detail": "outputs differ between two runs in this same environment",
            }
        )
    if not recorded:
        causes.append(
            {
                "kind": "not_recorded",
                "score": 0.2,
                "detail": "the notebook was not recorded with repro-jupyter: no seeds, data hashes or "
                "environment to compare against",
            }
        )
    if old_record is not None:
        if source_changed(source, old_record.get("source")):
            causes.append(
                {
                    "kind": "source_changed",
                    "score": 0.95,
                    "detail": "the cell's code changed since it was recorded (stale record)",
                }
            )
        new = new_record or {}
        changed_inputs = _inputs_changed(old_record.get("inputs", []), new.get("inputs", []))
        if changed_inputs and new_record is not None:
            causes.append(
                {
                    "kind": "data",
                    # a changed input is a fact, not a guess: it outranks everything else
                    "score": 0.98,
                    "detail": "input data changed: " + ", ".join(changed_inputs[:5]),
                }
            )
        old_params, new_params = old_record.get("params") or {}, new.get("params") or {}
        changed_params = [
            k for k in sorted(set(old_params) | set(new_params)) if old_params.get(k) != new_params.get(k)
        ]
        if changed_params and new_record is not None:
            causes.append(
                {
                    "kind": "params",
                    "score": 0.96,
                    "detail": "hyperparameters changed: "
                    + ", ".join(
                        f"{k} {old_params.get(k)!r} -> {new_params.get(k)!r}" for k in changed_params[:5]
                    ),
                }
            )
        if new_record is not None and old_record.get("seed") != new.get("seed"):
            causes.append(
                {
                    "kind": "seed",
                    "score": 0.9,
                    "detail": f"cell seed {old_record.get('seed')} -> {new.get('seed')} "
                    f"(master {old_record.get('master_seed')} -> {new.get('master_seed')})",
                }
            )
        elif new_record is not None:
            before_old, before_new = (
                old_record.get("rng", {}).get("before", {}),
                new.get("rng", {}).get("before", {}),
            )
            differing = sorted(k for k in set(before_old) & set(before_new) if before_old[k] != before_new[k])
            if differing:
                causes.append(
                    {
                        "kind": "rng_state",
                        "score": 0.7,
                        "detail": "same seed but a different RNG state at cell start: "
                        + ", ".join(differing),
                    }
                )
        unseeded = sorted(set(old_record.get("unseeded") or []) | set(new.get("unseeded") or []))
        if unseeded:
            causes.append(
                {
                    "kind": "unseeded_randomness",
                    "score": 0.93,
                    "detail": "randomness from an unseeded source: " + "; ".join(unseeded),
                }
            )
        warnings_ = sorted(
            set(old_record.get("nondeterminism_warnings") or [])
            | set(new.get("nondeterminism_warnings") or [])
        )
        if warnings_:
            causes.append(
                {
                    "kind": "nondeterministic_kernel",
                    "score": 0.75,
                    "detail": "nondeterministic kernels reported: " + "; ".join(warnings_[:2]),
                }
            )
    if env_diff.get("packages"):
        causes.append(
            {
                "kind": "package_change",
                "score": 0.8,
                "detail": "imported packages changed: " + _changes_text(env_diff["packages"]),
            }
        )
    for section, (kind, score) in ENV_SCORES.items():
        if env_diff.get(section) and not any(c["kind"] == kind for c in causes):
            causes.append(
                {"kind": kind, "score": score, "detail": f"{section}: " + _changes_text(env_diff[section])}
            )
    if old_record is not None and new_record is not None:
        changed = settings_changes(
            old_record.get("deterministic_settings"), new_record.get("deterministic_settings")
        )
        if changed:
            causes.append(
                {
                    "kind": "gpu_change",
                    # a flag that selects other kernels (TF32, autotuning, deterministic algorithms)
                    # changes the last bits by design: more likely than a package or machine change
                    "score": 0.85,
                    "detail": "torch settings that change results differ: " + "; ".join(changed[:4]),
                }
            )
    if upstream is not None:
        causes.append(upstream)
    if not causes or all(c["kind"] == "not_recorded" for c in causes):
        causes.append(
            {
                "kind": "unknown",
                "score": 0.1,
                "detail": "nothing recorded explains this drift (same code, seeds, data, packages and "
                "machine facts); try `--runs 2` to test for nondeterminism",
            }
        )
    causes.sort(key=lambda c: -c["score"])
    return causes
