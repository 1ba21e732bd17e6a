"""``jupyter repro explain``: a drift's cause proven by re-running with factors put back.

Hermetic: the distributions are wheels written here (tinypkg 1.0 prints 0.5, 2.0 prints 0.25,
seven fillers whose version changes nothing), installed from a local wheelhouse by uv.  The
"user" environment is a uv venv layered over this test's interpreter with its own kernelspec;
notebooks are recorded in it with ``jupyter repro run --kernel``, then it is upgraded, and
``explain`` must name what was proven.  Real kernels throughout.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import nbformat
import pytest

from repro_jupyter.cli import main
from repro_jupyter.explain.bisect import Bisection

uv_mod = pytest.importorskip("uv")
UV = uv_mod.find_uv_bin()
FILLERS = [f"fill{c}" for c in "abcdefg"]
KERNEL = "repro-explain-test-user"


def make_wheel(folder: Path, name: str, version: str, source: str) -> None:
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": source,
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{dist}/top_level.txt": f"{name}\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{dist}/RECORD"] = "\n".join([*record, f"{dist}/RECORD,,"]) + "\n"
    with zipfile.ZipFile(folder / f"{name}-{version}-py3-none-any.whl", "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)


class World:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.wheels = root / "wheels"
        self.wheels.mkdir()
        for version, value in (("1.0", "0.5"), ("2.0", "0.25")):
            make_wheel(self.wheels, "tinypkg", version, f"VALUE = {value}\n")
            for name in FILLERS:
                make_wheel(self.wheels, name, version, f"WHICH = {version!r}\n")
        self.env = root / "user-env"
        self._uv("venv", "--quiet", "--python", sys.executable, str(self.env))
        site = Path(
            subprocess.check_output(
                [
                    str(self.env / "bin" / "python"),
                    "-c",
                    "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                ],
                text=True,
            ).strip()
        )
        base_site = sysconfig.get_paths()["purelib"]  # this interpreter's (the project's venv)
        (site / "_layer.pth").write_text(f"import site; site.addsitedir({base_site!r})\n")
        spec = root / "jupyter" / "kernels" / KERNEL
        spec.mkdir(parents=True)
        argv = [str(self.env / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        (spec / "kernel.json").write_text(
            json.dumps({"argv": argv, "display_name": "user", "language": "python"})
        )
        self.jupyter_path = str(root / "jupyter")

    def _uv(self, *args: str) -> None:
        env = {**os.environ, "UV_CACHE_DIR": str(self.root / "uv-cache")}
        env.pop("VIRTUAL_ENV", None)
        subprocess.run([UV, *args], check=True, capture_output=True, env=env)

    def install(self, version: str, names: list[str]) -> None:
        pins = [f"{n}=={version}" for n in names]
        python = str(self.env / "bin" / "python")
        self._uv("pip", "install", "--quiet", "--python", python, "--no-deps", "--no-index", "--find-links",
                 str(self.wheels), *pins)  # fmt: skip


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("explain")
    with pytest.MonkeyPatch.context() as mp:
        world = World(root)
        mp.setenv("JUPYTER_PATH", world.jupyter_path)
        mp.setenv("XDG_CACHE_HOME", str(root / "cache"))
        yield world


def notebook(folder: Path, sources: list[str]) -> Path:
    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "user", "language": "python"}
    path = folder / "nb.ipynb"
    nbformat.write(nb, path)
    return path


def record(path: Path) -> None:
    assert main(["run", str(path), "--kernel", KERNEL]) == 0


def explain(path: Path, world: World, *extra: str) -> tuple[int, dict]:
    out = path.parent / "explain.json"
    code = main(
        [
            "explain",
            str(path),
            "--kernel",
            KERNEL,
            "--find-links",
            str(world.wheels),
            "--report-json",
            str(out),
            *extra,
        ]
    )
    return code, (json.loads(out.read_text()) if out.exists() else {})


def runs_in_store(path: Path) -> int:
    with sqlite3.connect(path.parent / ".repro" / "catalog.sqlite") as db:
        return db.execute("select count(*) from runs").fetchone()[0]


def test_one_changed_distribution_is_proven_and_nothing_of_the_users_is_written(world, tmp_path, capsys):
    world.install("1.0", ["tinypkg", *FILLERS])
    path = notebook(tmp_path / "one", ["import tinypkg", "print(tinypkg.VALUE)"])
    record(path)
    world.install("2.0", ["tinypkg"])
    before, runs = path.read_bytes(), runs_in_store(path)
    html = tmp_path / "explain.html"
    code, report = explain(path, world, "--html", str(html))
    out = capsys.readouterr().out
    assert code == 1, out
    assert report["status"] == "proven"
    assert report["cause"] == {
        "kind": "packages",
        "put_back": [{"name": "tinypkg", "recorded": "1.0", "now": "2.0"}],
    }
    assert (
        "proven cause: tinypkg 2.0 (recorded 1.0); with tinypkg 1.0 cell 2 reproduces" in report["conclusion"]
    )
    kinds = [t["kind"] for t in report["trials"]]
    assert kinds == ["verify", "same_seed_again", "packages"]
    assert [t["result"] for t in report["trials"]] == ["drift", "drift", "reproduced"]
    assert report["trials"][2]["environment"]["pins"] == ["tinypkg==1.0"]
    assert "proven" in html.read_text() and "tinypkg" in html.read_text()
    # the user's notebook, store and environment are untouched
    assert path.read_bytes() == before and runs_in_store(path) == runs
    assert not list(path.parent.glob(".nb.*"))
    python = world.env / "bin" / "python"
    assert (
        subprocess.check_output(
            [str(python), "-c", "import tinypkg; print(tinypkg.VALUE)"], text=True
        ).strip()
        == "0.25"
    )

    # a second explain reuses the cached trial environment
    code, again = explain(path, world)
    assert code == 1 and again["trials"][2]["environment"]["reused"] is True

    # unreachable index with a fresh cache: one line, exit 2
    os.environ["XDG_CACHE_HOME"] = str(tmp_path / "fresh-cache")
    try:
        capsys.readouterr()
        code = main(["explain", str(path), "--kernel", KERNEL, "--index-url", "http://127.0.0.1:9/simple"])
    finally:
        os.environ["XDG_CACHE_HOME"] = str(world.root / "cache")
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "unreachable" in err, err


def test_eight_changed_distributions_bisect_to_the_one_that_matters(world, tmp_path, capsys):
    world.install("1.0", ["tinypkg", *FILLERS])
    imports = ", ".join(FILLERS)
    sources = [
        f"import {imports}\nimport tinypkg",
        "data = list(range(5))",
        "print(sum(data) * tinypkg.VALUE)",
    ]
    path = notebook(tmp_path / "eight", sources)
    record(path)
    world.install("2.0", ["tinypkg", *FILLERS])
    code, report = explain(path, world)
    assert code == 1, capsys.readouterr().out
    assert report["cause"]["put_back"] == [{"name": "tinypkg", "recorded": "1.0", "now": "2.0"}]
    package_trials = [t for t in report["trials"] if t["kind"] == "packages"]
    assert report["bisection"]["candidates"] == 8
    assert len(package_trials) <= 5, [t["put_back"] for t in package_trials]
    assert len(package_trials[0]["environment"]["pins"]) == 8 and package_trials[0]["result"] == "reproduced"
    # the steering trials restored `data` from cell 2's checkpoint; the proving ones ran from the top
    assert "from_cell" not in package_trials[0] and "from_cell" not in package_trials[-1]
    assert package_trials[-1]["put_back"] == ["tinypkg 1.0 (now 2.0)"]
    assert package_trials[-1]["result"] == "reproduced"
    steering = package_trials[1:-1]
    assert steering and all(t["from_cell"] == 1 and t["result"] in ("reproduced", "drift") for t in steering)
    assert any("restore the state after cell 2 from its checkpoint" in n for n in report["notes"])


def test_changed_constant_in_code_is_not_the_packages(world, tmp_path, capsys):
    world.install("1.0", ["tinypkg", *FILLERS])
    path = notebook(tmp_path / "code", ["import filla, helper", "print(helper.CONST * 2)"])
    (path.parent / "helper.py").write_text("CONST = 3\n")
    record(path)
    world.install("2.0", ["filla"])  # a package changed too, but it is not why the number changed
    (path.parent / "helper.py").write_text("CONST = 4\n")
    code, report = explain(path, world)
    assert code == 3, capsys.readouterr().out
    assert report["status"] == "not_proven" and report["cause"] is None
    assert report["conclusion"].startswith("not the packages: code, data, seed or nondeterminism")
    assert [t["result"] for t in report["trials"] if t["kind"] == "packages"] == ["drift"]


def test_a_cell_that_changes_on_the_same_seed_proves_nothing(world, tmp_path, capsys):
    world.install("1.0", ["tinypkg", *FILLERS])
    path = notebook(tmp_path / "flaky", ["import os, tinypkg", "print(os.urandom(8).hex())"])
    record(path)
    world.install("2.0", ["tinypkg"])  # a changed distribution must not be blamed for a flaky cell
    code, report = explain(path, world)
    assert code == 3, capsys.readouterr().out
    assert "nondeterministic here" in report["conclusion"] and report["cause"] is None
    kinds = [t["kind"] for t in report["trials"]]
    # the package trials run while the control does (two cores, one run's time); they prove nothing here
    assert kinds[:2] == ["verify", "same_seed_again"] and set(kinds[2:]) <= {"packages"}, kinds


def test_no_drift_exits_0(world, tmp_path, capsys):
    world.install("1.0", ["tinypkg"])
    path = notebook(tmp_path / "same", ["import tinypkg", "print(tinypkg.VALUE)"])
    record(path)
    code, report = explain(path, world)
    assert code == 0 and report["status"] == "no_drift"
    assert [t["kind"] for t in report["trials"]] == ["verify"]


def test_bad_input_is_one_line_exit_2(world, tmp_path, capsys, monkeypatch):
    assert main(["explain", str(tmp_path / "missing.ipynb")]) == 2
    assert main(["explain", str(tmp_path / "missing.ipynb"), "--max-trials", "0"]) == 2
    path = notebook(tmp_path / "nouv", ["print(1)"])
    monkeypatch.setattr("repro_jupyter.explain.core.find_uv", lambda: None)
    assert main(["explain", str(path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3 and "uv is not installed" in lines[-1]


@pytest.mark.parametrize("culprit", range(8))
def test_bisection_finds_one_of_eight_in_at_most_five_trials(culprit):
    names = tuple(f"p{i}" for i in range(8))
    bisection = Bisection(lambda s, final: names[culprit] in s, budget=12)
    assert bisection.run(names) == (names[culprit],)
    assert len(bisection.tried) <= 5


def test_bisection_finds_two_that_act_together():
    names = tuple(f"p{i}" for i in range(8))
    bisection = Bisection(lambda s, final: {"p1", "p6"} <= set(s), budget=30)
    assert sorted(bisection.run(names)) == ["p1", "p6"]
    limited = Bisection(lambda s, final: {"p1", "p6"} <= set(s), budget=2)
    assert limited.run(names) is not None and limited.exhausted  # the smallest set a trial proved
