"""Trial environments: the kernel's own environment with a few distributions put back.

A trial environment is a uv virtual environment on the kernel's interpreter whose
site-packages holds only the pinned distributions; a ``.pth`` file then adds the
kernel's own site-packages *after* it (``site.addsitedir``, so the base's own ``.pth``
files, editable installs included, still work).  What the trial installs wins, all else
comes from the base.  ``--system-site-packages`` would not do: it layers over the *base
interpreter* of a venv, not over the venv the kernel runs in.

Nothing is ever installed into the user's environment: uv installs into the trial's own
folder only (``--python TRIAL/bin/python`` sees the trial's site-packages, never the base's).
Environments live under ``$XDG_CACHE_HOME/repro-jupyter/explain/`` keyed by (base
interpreter, base site folders, pins), with one shared uv cache, and are reused across
runs; ``jupyter repro explain --clean`` removes the folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..canonical import digest_json
from ..errors import ReproError

READY = ".repro-explain-ready"
PTH = "_repro_explain_base.pth"
# what uv says when it never reached an index: the run cannot go on (exit 2), unlike a missing pin
UNREACHABLE = (
    "failed to fetch",
    "error sending request",
    "dns error",
    "connection refused",
    "operation timed out",
    "network is unreachable",
    "tcp connect error",
    "could not connect",
    "no space left",
)


class ExplainError(ReproError):
    """explain cannot go on (no uv, index unreachable, kernel not a Python interpreter): exit 2."""


class PinError(Exception):
    """uv could not install some pins (not on the index, no wheel for this Python)."""


def cache_root() -> Path:
    """Where trial environments and their uv cache live
    (``$XDG_CACHE_HOME/repro-jupyter/explain``); ``explain --clean`` removes it."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "repro-jupyter" / "explain"


def find_uv() -> str | None:
    """The uv binary: the ``uv`` distribution's (``pip install uv``), else one on PATH."""
    try:
        import uv  # type: ignore[import-not-found]

        found = uv.find_uv_bin()
        if found and Path(found).exists():
            return str(found)
    except (ImportError, FileNotFoundError, AttributeError):
        pass
    return shutil.which("uv")


@dataclass(frozen=True)
class Base:
    """The environment the kernel runs in: its interpreter and site-packages folders."""

    kernel: str
    python: str
    version: str
    site_dirs: tuple[str, ...]
    spec_env: tuple[tuple[str, str], ...] = ()


def base_of_kernel(kernel: str) -> Base:
    """Resolve a kernelspec to the interpreter it starts, as jupyter_client does (``python`` in a
    kernelspec's argv means this process's interpreter)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(kernel)
    except NoSuchKernel:
        raise ExplainError(f"no kernel named {kernel!r} is installed") from None
    argv = list(spec.argv)
    first = argv[0] if argv else ""
    major, minor = sys.version_info[:2]
    if first in {"python", f"python{major}", f"python{major}.{minor}"}:
        python = sys.executable
    else:
        python = shutil.which(first) or first
    is_python = len(argv) > 2 and argv[1] == "-m" and "ipykernel" in argv[2]
    if not is_python or not os.access(python, os.X_OK):
        raise ExplainError(
            f"kernel {kernel!r} does not start a Python interpreter directly ({' '.join(argv[:3])[:120]}): "
            "its environment cannot be layered"
        )
    probe = (
        "import json, site, platform; print(json.dumps([platform.python_version(), site.getsitepackages()]))"
    )
    try:
        out = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
        version, dirs = json.loads(out.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError) as exc:
        raise ExplainError(f"cannot inspect the interpreter of kernel {kernel!r}: {exc}") from None
    return Base(
        kernel=kernel,
        python=python,
        version=version,
        site_dirs=tuple(d for d in dirs if Path(d).is_dir()),
        spec_env=tuple(sorted((spec.env or {}).items())),
    )


@dataclass(frozen=True)
class Sources:
    """Where pins come from.  ``--find-links`` alone means *only* that folder (a local wheelhouse,
    nothing fetched); ``--index-url`` names the index (default: uv's own, PyPI)."""

    find_links: tuple[str, ...] = ()
    index_url: str | None = None

    def args(self) -> list[str]:
        """uv arguments for these sources (``--find-links`` alone adds ``--no-index``)."""
        out: list[str] = []
        for link in self.find_links:
            out += ["--find-links", link]
        if self.index_url:
            out += ["--index-url", self.index_url]
        elif self.find_links:
            out.append("--no-index")
        return out


def env_key(base: Base, pins: Sequence[str]) -> str:
    """The cache key of a trial environment: base interpreter, base site folders and the pins (order-free)."""
    return digest_json({"python": base.python, "site": list(base.site_dirs), "pins": sorted(pins)})


@dataclass(frozen=True)
class TrialEnv:
    """A built trial environment and the kernelspec name that
    starts it; ``reused`` when an earlier run built it."""

    path: Path
    digest: str
    pins: tuple[str, ...]
    kernel_name: str
    reused: bool

    @property
    def jupyter_path(self) -> str:
        """The folder to prepend to JUPYTER_PATH so the trial's kernelspec is found."""
        return str(self.path / "share" / "jupyter")


class Builder:
    """Builds (or finds again) trial environments for one base."""

    def __init__(self, uv: str, base: Base, sources: Sources, root: Path | None = None) -> None:
        self.uv, self.base, self.sources = uv, base, sources
        self.root = root or cache_root()
        self.built: set[Path] = set()  # built by this run: not "reused" when a trial uses them

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("VIRTUAL_ENV", None)  # uv must target --python, never the caller's venv
        env.update(
            UV_CACHE_DIR=str(self.root / "uv-cache"),
            UV_PYTHON_DOWNLOADS="never",
            UV_HTTP_RETRIES="0",
            UV_HTTP_TIMEOUT="20",
            UV_NO_PROGRESS="1",
        )
        return env

    def _uv(self, args: list[str], timeout: int = 900) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                [self.uv, *args], capture_output=True, text=True, env=self._env(), timeout=timeout
            )
        except subprocess.TimeoutExpired:
            raise ExplainError(f"uv {args[0]} ran longer than {timeout}s") from None
        except OSError as exc:
            raise ExplainError(f"cannot run uv: {exc}") from None

    def build(self, pins: Sequence[str]) -> TrialEnv:
        """The trial environment for ``pins``: reused when a finished one exists, else built under a
        lock (two explain runs never build one folder at once)."""
        digest = env_key(self.base, pins)
        path = self.root / "envs" / digest.split(":")[-1][:16]
        name = f"repro-explain-{digest.split(':')[-1][:12]}"
        path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(path.parent / f"{path.name}.lock"):
            if (path / READY).is_file():
                return TrialEnv(path, digest, tuple(sorted(pins)), name, reused=path not in self.built)
            shutil.rmtree(path, ignore_errors=True)  # a half-built one from an interrupted run
            made = self._uv(["venv", "--quiet", "--python", self.base.python, str(path)], timeout=120)
            if made.returncode != 0:
                raise ExplainError(f"uv venv failed: {_last_line(made.stderr)}")
            python = path / "bin" / "python"
            site = _site_packages(python)
            lines = [f"import site; site.addsitedir({d!r})" for d in self.base.site_dirs]
            (site / PTH).write_text("\n".join(lines) + "\n", encoding="utf-8")
            if pins:
                self.install(python, pins)
            _write_kernelspec(path, name, self.base)
            (path / READY).write_text(json.dumps({"pins": sorted(pins), "base": self.base.python}))
            self.built.add(path)
        return TrialEnv(path, digest, tuple(sorted(pins)), name, reused=False)

    def install(self, python: Path, pins: Sequence[str], dry_run: bool = False) -> None:
        """Install ``pins`` (without dependencies) into the trial interpreter; ExplainError
        when the index is unreachable, PinError when a pin cannot be installed."""
        args = ["pip", "install", "--python", str(python), "--no-deps", *self.sources.args(), *pins]
        if dry_run:
            args.append("--dry-run")
        done = self._uv(args)
        if done.returncode == 0:
            return
        text = done.stderr.strip()
        if any(marker in text.lower() for marker in UNREACHABLE):
            where = self.sources.index_url or "the package index"
            raise ExplainError(f"cannot install trial pins: {where} unreachable: {_last_line(text)}")
        raise PinError(_last_line(text))

    def unresolvable(self, pins: Sequence[str]) -> list[str]:
        """The pins uv cannot install on their own (each checked with ``--dry-run`` in a scratch env)."""
        probe = self.build([])  # the empty trial: a venv on the base, nothing installed
        bad = []
        for pin in pins:
            try:
                self.install(probe.path / "bin" / "python", [pin], dry_run=True)
            except PinError:
                bad.append(pin)
        return bad


def _site_packages(python: Path) -> Path:
    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    path = Path(out.stdout.strip())
    if out.returncode != 0 or not path.is_dir():
        raise ExplainError(f"the trial interpreter {python} does not start: {_last_line(out.stderr)}")
    return path


def _write_kernelspec(path: Path, name: str, base: Base) -> None:
    """A kernelspec inside the trial env; found through JUPYTER_PATH only while a trial runs."""
    folder = path / "share" / "jupyter" / "kernels" / name
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [str(path / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"repro explain trial {name[-12:]}",
        "language": "python",
        "env": dict(base.spec_env),
    }
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1), encoding="utf-8")


@contextlib.contextmanager
def _locked(lock: Path) -> Iterator[None]:
    with open(lock, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def clean(root: Path | None = None) -> tuple[Path, int]:
    """Remove every trial environment and the uv cache; the folder and how many bytes it held."""
    root = root or cache_root()
    size = 0
    if root.exists():
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                with contextlib.suppress(OSError):
                    size += os.lstat(os.path.join(dirpath, name)).st_size
        shutil.rmtree(root)
    return root, size


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    meaningful = [ln for ln in lines if ln.lower().startswith(("error", "×", "╰─▶", "caused by"))]
    pick = (meaningful or lines or ["(no message)"])[-1]
    return " ".join(pick.lstrip("×╰─▶ ").split())[:300]
