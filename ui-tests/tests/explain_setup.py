"""Setup for explain.spec.ts: a notebook recorded with tinypkg 1.0 whose kernel now has tinypkg 2.0.

    python explain_setup.py setup FOLDER KERNEL    (FOLDER: absolute, inside the Lab's server root)
    python explain_setup.py teardown KERNEL ENV

``setup`` builds the hermetic case of tests/test_explain.py (its ``World``: a wheelhouse with
tinypkg 1.0 / 2.0, a uv venv layered over this interpreter's site-packages) in a temporary folder
outside the server root, installs a kernelspec named KERNEL for that venv where the running
Jupyter server finds it (the user's data dir: kernelspecs are looked up on every request),
writes FOLDER/explain.ipynb, records it with tinypkg 1.0 (``jupyter repro run``), then upgrades
the venv to tinypkg 2.0.  The wheelhouse is copied to FOLDER/wheels and named in
FOLDER/pyproject.toml (``explain-find-links``), as a Lab user sets it.  Prints one JSON line
(``env``, ``notebook``).  ``teardown`` removes the kernelspec and the temporary folder.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SOURCES = ["import tinypkg", "print(tinypkg.VALUE)"]


def kernel_dir(name: str) -> Path:
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "kernels" / name


def setup(folder: Path, kernel: str) -> dict[str, str]:
    import nbformat

    from repro_jupyter.cli import main
    from tests.test_explain import FILLERS, World

    work = Path(tempfile.mkdtemp(prefix="repro-explain-ui-"))
    world = World(work)
    world.install("1.0", ["tinypkg", *FILLERS])
    spec = kernel_dir(kernel)
    spec.mkdir(parents=True, exist_ok=True)
    argv = [str(world.env / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    display = "tinypkg user env (explain UI test)"
    kernel_json = {"argv": argv, "display_name": display, "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel_json))

    folder.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in SOURCES]
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": display, "language": "python"}
    path = folder / "explain.ipynb"
    nbformat.write(nb, path)
    if main(["run", str(path), "--kernel", kernel, "-q"]) != 0:
        raise SystemExit("recording the notebook failed")
    world.install("2.0", ["tinypkg"])
    shutil.copytree(world.wheels, folder / "wheels")
    (folder / "pyproject.toml").write_text('[tool.repro-jupyter]\nexplain-find-links = "wheels"\n')
    return {"env": str(work), "notebook": str(path)}


def teardown(kernel: str, env: str) -> None:
    shutil.rmtree(kernel_dir(kernel), ignore_errors=True)
    if Path(env).name.startswith("repro-explain-ui-"):
        shutil.rmtree(env, ignore_errors=True)


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "setup":
        print(json.dumps(setup(Path(args[0]), args[1])))
    elif command == "teardown":
        teardown(args[0], args[1])
    else:
        raise SystemExit(f"unknown command {command!r}")
