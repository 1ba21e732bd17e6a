"""Seeding every RNG from one master seed, and digests of RNG state.

The per-cell seed depends only on the master seed and the cell's stable key
(its nbformat id), never on execution order, so re-running one cell alone
reproduces it.  torch is seeded only when the notebook already imported it:
importing torch just to seed it would cost ~2 s per kernel.
"""

from __future__ import annotations

import hashlib
import os
import random
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .canonical import digest_bytes

SEED_BITS = 32  # numpy's legacy RandomState accepts seeds below 2**32


def derive_cell_seed(master_seed: int, cell_key: str) -> int:
    """A 32-bit seed from (master seed, cell key): stable across runs and machines."""
    material = f"repro-jupyter/v1/{int(master_seed)}/{cell_key}".encode()
    return int.from_bytes(hashlib.sha256(material).digest()[:4], "big")


def new_master_seed() -> int:
    """A fresh master seed for a notebook that has none yet (then recorded in its metadata)."""
    return int.from_bytes(os.urandom(4), "big") % (2**31)


def seeded_libraries() -> list[str]:
    """The global RNGs ``seed_all`` would seed now: ``random`` always, NumPy
    and torch (and CUDA) only when already imported, never importing them."""
    libs = ["random"]
    if "numpy.random" in sys.modules:  # numpy 2 imports numpy.random lazily: never force it
        libs.append("numpy")
    if "torch" in sys.modules:
        libs.append("torch")
        torch = sys.modules["torch"]
        try:
            if torch.cuda.is_available():
                libs.append("torch.cuda")
        except Exception:  # a broken CUDA install must not break seeding of the rest
            pass
    return libs


def seed_all(seed: int) -> list[str]:
    """Seed Python, NumPy's global RNG and torch (when imported); return what was seeded."""
    random.seed(seed)
    libs = seeded_libraries()
    if "numpy" in libs:
        sys.modules["numpy.random"].seed(seed)
    if "torch" in libs:
        torch = sys.modules["torch"]
        torch.manual_seed(seed)  # also seeds every CUDA device lazily
    return libs


def _torch_state_bytes(torch: Any) -> bytes:
    parts = [bytes(torch.get_rng_state().numpy().tobytes())]
    try:
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            parts += [bytes(s.numpy().tobytes()) for s in torch.cuda.get_rng_state_all()]
    except Exception:
        pass
    return b"".join(parts)


def rng_state_digests() -> dict[str, str]:
    """Digest of every global RNG's state: equal before/after means the cell drew nothing."""
    out = {"random": digest_bytes(repr(random.getstate()).encode())}
    np_random = sys.modules.get("numpy.random")
    if np_random is not None:
        kind, keys, pos, has_gauss, gauss = np_random.get_state()
        out["numpy"] = digest_bytes(keys.tobytes() + repr((kind, pos, has_gauss, gauss)).encode())
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "get_rng_state"):
        try:
            out["torch"] = digest_bytes(_torch_state_bytes(torch))
        except Exception:
            pass
    return out


# --- deterministic mode ------------------------------------------------------------------

CUBLAS_CONFIG = ":4096:8"
HASH_SEED = "0"  # PYTHONHASHSEED of the kernels we start when the caller's environment sets none


def kernel_env(deterministic: bool, environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a kernel we launch (headless run/verify/sensitivity, Lab replay).

    ``PYTHONHASHSEED`` is fixed, so the iteration order of a set of strings is the same in the
    recording run and in verify: a fixed value (not one derived from the master seed) because a
    notebook without a recorded master seed only gets one inside the kernel, after the start.
    An integer the caller already exported is kept (the record shows it).  In deterministic mode
    ``CUBLAS_WORKSPACE_CONFIG`` must be set before the CUDA context exists, so before the start.
    """
    env = dict(os.environ if environ is None else environ)
    if not env.get("PYTHONHASHSEED", "").strip().isdigit():
        env["PYTHONHASHSEED"] = HASH_SEED
    if deterministic:
        env.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_CONFIG)
    return env


_CUDA_WARNED: list[bool] = []


def _cuda_initialized(torch: Any) -> bool:
    try:
        return bool(torch.cuda.is_initialized())
    except Exception:
        return False


def apply_deterministic_mode() -> dict[str, Any]:
    """Switch torch to deterministic kernels (warn-only) and return the settings in force.

    cuBLAS reads ``CUBLAS_WORKSPACE_CONFIG`` when the CUDA context is created: setting it in a
    kernel whose context already exists changes nothing, which is said once, in one line.
    """
    was_set = bool(os.environ.get("CUBLAS_WORKSPACE_CONFIG"))
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_CONFIG)
    torch = sys.modules.get("torch")
    if torch is not None:
        if not was_set and _cuda_initialized(torch) and not _CUDA_WARNED:
            _CUDA_WARNED.append(True)
            from .errors import ReproWarning

            warnings.warn(
                "repro: deterministic mode asked for after CUDA was initialised without "
                "CUBLAS_WORKSPACE_CONFIG; cuBLAS may stay nondeterministic until the kernel restarts "
                f"(set CUBLAS_WORKSPACE_CONFIG={CUBLAS_CONFIG} before it starts)",
                ReproWarning,
                stacklevel=2,
            )
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    return deterministic_settings()


def torch_settings(torch: Any) -> dict[str, Any]:
    """The torch flags that change numerical results (TF32, cuDNN autotuning, deterministic kernels).

    Read without touching CUDA: every flag is a plain Python-side setting, also on CPU-only builds.
    """
    out: dict[str, Any] = {}
    probes = {
        "cuda_matmul_allow_tf32": lambda: bool(torch.backends.cuda.matmul.allow_tf32),
        "cudnn_allow_tf32": lambda: bool(torch.backends.cudnn.allow_tf32),
        "float32_matmul_precision": lambda: str(torch.get_float32_matmul_precision()),
        # torch >= 2.9 also has a per-backend precision setting ("none", "ieee", "tf32")
        "cuda_matmul_fp32_precision": lambda: str(torch.backends.cuda.matmul.fp32_precision),
        "cudnn_fp32_precision": lambda: str(torch.backends.cudnn.fp32_precision),
        "cudnn_benchmark": lambda: bool(torch.backends.cudnn.benchmark),
        "cudnn_deterministic": lambda: bool(torch.backends.cudnn.deterministic),
        "deterministic_algorithms": lambda: bool(torch.are_deterministic_algorithms_enabled()),
        "deterministic_warn_only": lambda: bool(torch.is_deterministic_algorithms_warn_only_enabled()),
    }
    for name, probe in probes.items():
        try:
            out[name] = probe()
        except Exception:  # an older torch without one flag: the others are still worth recording
            pass
    return out


def deterministic_settings() -> dict[str, Any]:
    """The determinism-relevant settings currently in force (recorded with every cell)."""
    settings: dict[str, Any] = {
        "CUBLAS_WORKSPACE_CONFIG": os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
        "PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED"),
    }
    torch = sys.modules.get("torch")
    if torch is not None:
        flags = torch_settings(torch)
        # the names records have always used, then the TF32/precision flags
        renamed = {
            "deterministic_algorithms": "torch_deterministic_algorithms",
            "deterministic_warn_only": "torch_deterministic_warn_only",
        }
        for name, value in flags.items():
            settings[renamed.get(name, name)] = value
    return settings


_NONDETERMINISM_HINTS = ("deterministic", "nondeterministic", "non-deterministic")


@contextmanager
def collect_nondeterminism_warnings() -> Iterator[list[str]]:
    """Record warnings that report nondeterministic kernels, while still showing every warning."""
    seen: list[str] = []
    original = warnings.showwarning

    def showwarning(message: Any, category: Any, filename: str, lineno: int, *a: Any, **k: Any):
        text = str(message)
        if any(h in text.lower() for h in _NONDETERMINISM_HINTS):
            seen.append(f"{getattr(category, '__name__', 'Warning')}: {text.splitlines()[0][:300]}")
        return original(message, category, filename, lineno, *a, **k)

    warnings.showwarning = showwarning
    try:
        yield seen
    finally:
        if warnings.showwarning is showwarning:
            warnings.showwarning = original


# --- seeding libraries imported in the middle of a recorded cell ---------------------------

_SEED_AFTER_IMPORT = {
    "numpy.random": lambda module, seed: module.seed(seed),
    "torch": lambda module, seed: module.manual_seed(seed),
}


class SeedOnImport:
    """A meta-path finder that seeds numpy/torch the moment a recorded cell imports them.

    Without it, ``import numpy as np; np.random.rand()`` in one cell would draw from
    numpy's entropy-seeded start state, and every later record would carry a random
    "after" digest.  The finder only wraps the real loader; it never loads anything.
    """

    def __init__(self) -> None:
        self.seed: int | None = None
        # RNG digests taken right after seeding a library imported mid-cell: its "before" state
        self.seeded_states: dict[str, str] = {}
        # callbacks(fullname, module) run after a watched module is imported mid-cell
        self.on_import: list[Any] = []

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        """The import system's hook: for numpy.random and torch while a cell is recorded, the
        real spec with a loader that seeds the module right after it executes; else None."""
        if self.seed is None or fullname not in _SEED_AFTER_IMPORT:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                self._wrap(spec, fullname)
                return spec
        return None

    def _wrap(self, spec: Any, fullname: str) -> None:
        loader, finder = spec.loader, self
        original = loader.exec_module

        def exec_module(module: Any) -> None:
            original(module)
            for callback in list(finder.on_import):
                try:
                    callback(fullname, module)
                except Exception:
                    pass
            if finder.seed is not None:
                try:
                    _SEED_AFTER_IMPORT[fullname](module, finder.seed)
                    library = "numpy" if fullname == "numpy.random" else fullname
                    state = rng_state_digests().get(library)
                    if state:
                        finder.seeded_states[library] = state
                except Exception:
                    pass

        class _Loader:
            def __getattr__(self, name: str) -> Any:
                return getattr(loader, name)

        wrapped = _Loader()
        wrapped.exec_module = exec_module  # type: ignore[attr-defined]
        wrapped.create_module = loader.create_module  # type: ignore[attr-defined]
        spec.loader = wrapped

    @contextmanager
    def active(self, seed: int) -> Iterator[None]:
        """Install the finder (once) and seed imports with ``seed``
        inside the block; outside it, imports are untouched."""
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)
        self.seed = seed
        self.seeded_states = {}
        try:
            yield
        finally:
            self.seed = None


SEED_ON_IMPORT = SeedOnImport()
