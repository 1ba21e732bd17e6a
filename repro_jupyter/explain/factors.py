"""What differs between the record and now, as factors a trial can put back (or cannot).

* distributions: every installed distribution whose version differs (imported ones first),
  less the kernel's own machinery (ipykernel, jupyter_client, repro-jupyter and their
  requirements: a trial needs the running ones to talk to the kernel at all);
* thread settings: the recorded OMP/MKL/OpenBLAS/... variables, and thread counts that
  threadpoolctl or torch reported, set again through the variables those libraries read;
* PYTHONHASHSEED as recorded;
* what cannot be put back is said in one line each: a Python version change, a changed input
  whose old bytes are not kept, distributions added since the record (a trial layers over the
  current environment; it cannot hide one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..environment.diff import environment_diff
from ..environment.packages import infrastructure_distributions

# never put back: the trial kernel needs the ones that run now (pip/uv only install)
KERNEL_MACHINERY = frozenset(
    {"repro-jupyter", "ipykernel", "jupyter-client", "jupyter-core", "pyzmq", "tornado", "comm"}
    | {"traitlets", "pip", "uv", "setuptools", "wheel", "debugpy", "nest-asyncio", "psutil"}
)
THREAD_PREFIXES = ("OMP_", "MKL_", "OPENBLAS_", "BLIS_", "VECLIB_", "NUMEXPR_", "KMP_")
# threadpoolctl's internal_api -> the variable that library reads at start-up
POOL_VARIABLE = {"openblas": "OPENBLAS_NUM_THREADS", "mkl": "MKL_NUM_THREADS", "blis": "BLIS_NUM_THREADS"}


@dataclass
class Change:
    """One distribution whose recorded version differs from the installed one
    (``now`` None: removed since); ``imported`` when the notebook imported it."""

    name: str
    recorded: str | None
    now: str | None
    imported: bool

    @property
    def pin(self) -> str:
        """The requirement a trial installs to put the recorded version back (``name==recorded``)."""
        return f"{self.name}=={self.recorded}"

    def text(self) -> str:
        """How the report names the change: recorded version, and the installed one or "absent"."""
        return f"{self.name} {self.recorded} (now {self.now or 'absent'})"


@dataclass
class Factors:
    """What trials can put back (distributions, thread settings,
    PYTHONHASHSEED) and, one line each, what they cannot."""

    distributions: list[Change] = field(default_factory=list)  # put back by trials, imported first
    not_put_back: list[str] = field(default_factory=list)  # one line each
    threads: dict[str, str | None] = field(default_factory=dict)  # variable -> recorded value (None: unset)
    hashseed: dict[str, str | None] = field(default_factory=dict)
    python: str | None = None  # "3.11.7 → 3.12.1" when the Python version changed


def _vars(env: dict[str, Any] | None) -> dict[str, str]:
    return dict(((env or {}).get("env_vars") or {}).get("variables") or {})


def factors(old_env: dict[str, Any] | None, new_env: dict[str, Any] | None) -> Factors:
    """The factors between a recorded and a current environment
    snapshot; with either missing, no factor and a line saying why."""
    out = Factors()
    if not old_env or not new_env:
        out.not_put_back.append("the environment of the drifting cell was not recorded: no package trials")
        return out
    old_py = (old_env.get("python") or {}).get("version")
    new_py = (new_env.get("python") or {}).get("version")
    if old_py and new_py and old_py != new_py:
        out.python = f"{old_py} → {new_py}"
        out.not_put_back.append(
            f"Python {new_py} (recorded {old_py}) cannot be put back by a trial environment: "
            f"trials run on {new_py}"
        )
    imported = {c["key"] for c in environment_diff(old_env, new_env).get("packages", [])}
    machinery = KERNEL_MACHINERY | (infrastructure_distributions() - _ml_libraries())
    for change in environment_diff(old_env, new_env, all_packages=True).get("packages", []):
        name, old, new = str(change["key"]), change["old"], change["new"]
        if name in machinery:
            if name in imported:
                out.not_put_back.append(f"{name} {old} → {new}: the kernel's own machinery, not put back")
            continue
        if old is None:
            if name in imported:
                out.not_put_back.append(f"{name} {new}: added since the record; a trial cannot remove it")
            continue
        out.distributions.append(Change(name, str(old), None if new is None else str(new), name in imported))
    out.distributions.sort(key=lambda c: (not c.imported, c.name))
    old_vars, new_vars = _vars(old_env), _vars(new_env)
    for name in sorted(set(old_vars) | set(new_vars)):
        if name.startswith(THREAD_PREFIXES) and old_vars.get(name) != new_vars.get(name):
            out.threads[name] = old_vars.get(name)
    _thread_counts(old_env, new_env, out.threads)
    if old_vars.get("PYTHONHASHSEED") != new_vars.get("PYTHONHASHSEED"):
        out.hashseed["PYTHONHASHSEED"] = old_vars.get("PYTHONHASHSEED")
    return out


def _ml_libraries() -> frozenset[str]:
    """Requirements of repro-jupyter that are also what notebooks compute with: always put back."""
    from ..environment.packages import ALWAYS_USER

    return ALWAYS_USER | {"scikit-image"}


def _thread_counts(old_env: dict[str, Any], new_env: dict[str, Any], into: dict[str, str | None]) -> None:
    """Thread counts that differ without a variable saying so (another machine's core count)."""
    old_t, new_t = old_env.get("threads") or {}, new_env.get("threads") or {}

    def pools(section: dict[str, Any]) -> dict[str, Any]:
        return {str(p.get("internal_api")): p.get("num_threads") for p in section.get("threadpools") or []}

    old_pools, new_pools = pools(old_t), pools(new_t)
    for api, count in old_pools.items():
        if count is not None and new_pools.get(api) not in (None, count):
            var = POOL_VARIABLE.get(api, "OMP_NUM_THREADS")
            into.setdefault(var, str(count))
    count = old_t.get("torch_num_threads")
    if count is not None and new_t.get("torch_num_threads") not in (None, count):
        into.setdefault("OMP_NUM_THREADS", str(count))


def input_lines(report: dict[str, Any], upto: int) -> list[str]:
    """Changed inputs of the cells up to the drifting one (records keep their digests, not their bytes)."""
    lines = []
    for cell in report.get("cells", []):
        if cell["index"] > upto:
            continue
        for diff in cell.get("differences", []):
            if diff.get("kind") != "input":
                continue
            lines.append(f"input changed and the old version is not available: {diff.get('path')}")
    return lines
