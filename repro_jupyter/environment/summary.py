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


def environment_summary(env: dict[str, Any], digest: str | None = None) -> str:
    """The snapshot as the few lines ``jupyter repro env`` and ``show`` print (python, os, cpu,
    gpu, torch, key packages, git, env var counts); ``digest`` shortened in the heading."""
    py, osi, cpu, gpu, git = env["python"], env["os"], env["cpu"], env["gpu"], env["git"]
    imported = env["packages"]["imported"]
    key = ", ".join(f"{n} {imported[n]}" for n in KEY_PACKAGES if n in imported) or "none imported"
    if gpu.get("available"):
        devs = "; ".join(f"{d['name']} (cc {d['compute_capability']})" for d in gpu["devices"])
        gpu_line = f"{devs}, driver {gpu['driver_version']}, CUDA {gpu['cuda_driver_version']}"
    else:
        gpu_line = f"none ({gpu.get('reason', 'not available')})"
    if git.get("available"):
        git_line = f"{short(git.get('commit'), 10)} on {git.get('branch')}" + (
            " (dirty)" if git.get("dirty") else ""
        )
    else:
        git_line = f"none ({git.get('reason')})"
    torch = env.get("torch")
    torch_line = f"{torch['version']} (CUDA {torch.get('cuda')})" if torch else "not imported"
    lines = [
        f"environment {short(digest)}" if digest else "environment",
        f"  python   {py['version']} ({py.get('implementation', '')})",
        f"  os       {osi.get('distribution') or osi.get('system')} {osi.get('machine', '')}",
        f"  cpu      {cpu.get('model')} x{cpu.get('count')}",
        f"  gpu      {gpu_line}",
        f"  torch    {torch_line}",
        f"  packages {key}; {len(imported)} imported, {len(env['packages']['installed'])} installed",
        f"  git      {git_line}",
        f"  env vars {len(env['env_vars']['variables'])} recorded, "
        f"{env['env_vars']['omitted_secrets']} secret(s) left out",
    ]
    return "\n".join(lines)
