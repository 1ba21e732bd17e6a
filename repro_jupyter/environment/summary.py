"""The environment in a few lines for people (`%repro env`, `jupyter repro env` and `show`)."""

from __future__ import annotations

from typing import Any

from ..canonical import short

KEY_PACKAGES = (
    "torch",
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "jax",
    "tensorflow",
    "matplotlib",
    "transformers",
)


def environment_facts(env: dict[str, Any]) -> dict[str, str]:
    """The environment's facts people read, one short text per section (python, os, cpu, gpu, torch, git,
    key packages, env vars): the Lab panel shows them as rows, ``environment_summary`` as lines.  Written
    to survive a partial snapshot (an older record): a missing section reads ``None``, never raises."""
    py, osi, cpu = env.get("python") or {}, env.get("os") or {}, env.get("cpu") or {}
    gpu, git = env.get("gpu") or {}, env.get("git") or {}
    if gpu.get("available"):
        gpu_text = "; ".join(f"{d['name']} (cc {d['compute_capability']})" for d in gpu.get("devices", []))
        gpu_text += f", driver {gpu.get('driver_version')}, CUDA {gpu.get('cuda_driver_version')}"
    else:
        gpu_text = f"none ({gpu.get('reason', 'not available')})"
    if git.get("available"):
        git_text = f"{short(git.get('commit'), 10)} on {git.get('branch')}" + (
            " (dirty)" if git.get("dirty") else ""
        )
    else:
        git_text = f"none ({git.get('reason')})"
    torch = env.get("torch")
    imported = (env.get("packages") or {}).get("imported") or {}
    return {
        "python": f"{py.get('version')} ({py.get('implementation')})",
        "os": f"{osi.get('distribution') or osi.get('system')} {osi.get('machine', '')}".strip(),
        "cpu": f"{cpu.get('model')} x{cpu.get('count')}",
        "gpu": gpu_text,
        "torch": f"{torch['version']} (CUDA {torch.get('cuda')})" if torch else "not imported",
        "git": git_text,
        "packages": ", ".join(f"{n} {imported[n]}" for n in KEY_PACKAGES if n in imported) or "none imported",
        "env_vars": f"{len((env.get('env_vars') or {}).get('variables', {}))} recorded",
    }


def environment_summary(env: dict[str, Any], digest: str | None = None) -> str:
    """The snapshot as the few lines ``jupyter repro env``, ``%repro env`` and ``show`` print: the facts
    of ``environment_facts`` plus package counts and secrets left out; ``digest`` shortened in the heading."""
    facts = environment_facts(env)
    packages = env.get("packages") or {}
    omitted = (env.get("env_vars") or {}).get("omitted_secrets", 0)
    lines = [
        f"environment {short(digest)}" if digest else "environment",
        f"  python   {facts['python']}",
        f"  os       {facts['os']}",
        f"  cpu      {facts['cpu']}",
        f"  gpu      {facts['gpu']}",
        f"  torch    {facts['torch']}",
        f"  packages {facts['packages']}; {len(packages.get('imported') or {})} imported, "
        f"{len(packages.get('installed') or {})} installed",
        f"  git      {facts['git']}",
        f"  env vars {facts['env_vars']}, {omitted} secret(s) left out",
    ]
    return "\n".join(lines)
