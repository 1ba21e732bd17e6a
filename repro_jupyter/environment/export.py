"""Rebuilding a recorded environment: a pinned requirements file, a conda file, or a Dockerfile.

Pins come from the recorded snapshot: the distributions the notebook imported
(``--all``: every installed one).  Local-version builds such as ``torch 2.13.0+cpu``
need their index noted, or pip would fetch the CUDA build: the export says which
index to use instead of silently dropping the local tag.
"""

from __future__ import annotations

import re
from typing import Any

# distributions whose local build tags name an index (torch's +cpu / +cu121 wheels)
TORCH_FAMILY = {"torch", "torchvision", "torchaudio"}
NOT_PINNABLE = {"repro-jupyter"}  # the tool itself is installed next to the lock, from the source


def _pins(env: dict[str, Any], all_packages: bool) -> dict[str, str]:
    packages = env.get("packages") or {}
    chosen = packages.get("installed" if all_packages else "imported") or {}
    return {name: version for name, version in sorted(chosen.items()) if name not in NOT_PINNABLE}


# the local tags PyTorch publishes an index for (download.pytorch.org/whl/<tag>)
TORCH_INDEX_TAG = re.compile(r"cpu|cu\d{2,4}|rocm\d+(\.\d+){0,2}|xpu")


def _torch_index(pins: dict[str, str]) -> str | None:
    """The index that holds the recorded local builds: from the first of the family (in a fixed
    order, so the export never depends on set order) whose tag names a PyTorch index; other tags
    (a crafted ``+..``, a private build) name none."""
    for name in sorted(TORCH_FAMILY & set(pins)):
        local = pins[name].partition("+")[2]
        if TORCH_INDEX_TAG.fullmatch(local):
            return f"https://download.pytorch.org/whl/{local}"
    return None


def requirements(env: dict[str, Any], all_packages: bool = False) -> str:
    """A pinned ``requirements.txt`` of the imported distributions (``all_packages``:
    every installed one), with PyTorch's index for local builds such as ``+cpu``."""
    pins = _pins(env, all_packages)
    python = (env.get("python") or {}).get("version", "?")
    lines = [
        f"# recorded by repro-jupyter; Python {python}",
        f"# rebuild: python{'.'.join(python.split('.')[:2])} -m venv .venv && "
        ".venv/bin/pip install -r requirements.txt",
    ]
    index = _torch_index(pins)
    if index:
        lines.append(f"--extra-index-url {index}")
    for name, version in pins.items():
        lines.append(f"{name}=={version}")
    return "\n".join(lines) + "\n"


def conda(env: dict[str, Any], all_packages: bool = False) -> str:
    """A conda ``environment.yml``: the recorded Python from
    conda-forge, the same pins as ``requirements`` installed by pip."""
    pins = _pins(env, all_packages)
    python = (env.get("python") or {}).get("version", "3")
    index = _torch_index(pins)
    lines = [
        "# recorded by repro-jupyter",
        "name: repro-recorded",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        f"  - python={python}",
        "  - pip",
        "  - pip:",
    ]
    if index:
        lines.append(f"      - --extra-index-url {index}")
    lines += [f"      - {name}=={version}" for name, version in pins.items()]
    return "\n".join(lines) + "\n"


def dockerfile(env: dict[str, Any], all_packages: bool = False) -> str:
    """A Dockerfile on the recorded Python's official slim image; it copies ``requirements.txt``, which
    the caller must write beside it (the ``requirements`` export); ``all_packages`` is unused."""
    python = (env.get("python") or {}).get("version", "3.11")
    gpu = (env.get("gpu") or {}).get("available")
    lines = [
        "# recorded by repro-jupyter: the official Python image of the recorded version plus the pinned lock",
        f"FROM python:{python}-slim",
        "ENV PIP_NO_CACHE_DIR=1 PYTHONHASHSEED=0",
        "WORKDIR /work",
        "COPY requirements.txt /tmp/requirements.txt",
        "RUN pip install -r /tmp/requirements.txt jupyterlab repro-jupyter",
        "COPY . /work",
        'CMD ["jupyter", "repro", "verify", "--help"]',
    ]
    if gpu:
        lines.insert(1, "# the recorded run used a GPU: run with --gpus all on a host with a matching driver")
    return "\n".join(lines) + "\n"


FORMATS = {"requirements": requirements, "conda": conda, "dockerfile": dockerfile}
