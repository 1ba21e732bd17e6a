"""Fuzzing what a user or a file can hand the CLI: notebook and cell ``repro_jupyter`` metadata of any
shape, store objects read back (corrupt bytes, broken JSON, environments and records of the wrong
schema), ``[tool.repro-jupyter]`` settings, and command lines.  Every case calls
``repro_jupyter.cli.main([...])`` in-process and must end with exit 0, or exit 2 and exactly one
error line: never a traceback, never exit 1 (drift) for bad input.  No kernel ever starts (a guard
turns a kernel start into a test failure): commands that would run one only get inputs that must be
refused first.  Derandomized, so CI sees the same cases every time; the total is printed.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from repro_jupyter import METADATA_KEY
from repro_jupyter.cli import build_parser, main
from repro_jupyter.compare.normalize import compile_rules, normalize_text
from repro_jupyter.compare.rules import CompareOptions, options_from_pyproject
from repro_jupyter.errors import NotebookError, ReproError, UsageError
from repro_jupyter.notebook_io import read_notebook
from repro_jupyter.store.location import resolve_location

SCALE = float(os.environ.get("REPRO_FUZZ_SCALE", "1"))  # < 1 for a quick local pass
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)


def fuzz(n: int) -> settings:
    return settings(
        max_examples=max(1, int(n * SCALE)),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
        phases=NO_SHRINK if os.environ.get("REPRO_FUZZ_NO_SHRINK") else tuple(Phase),
        report_multiple_bugs=False,
    )


CASES: dict[str, int] = {}
KERNEL_COMMANDS = {"run", "verify", "check", "sensitivity", "export", "explain"}


class KernelStarted(BaseException):
    """Raised by the guard: a fuzz case reached a kernel start (a BaseException so nothing swallows it)."""


@pytest.fixture(scope="module", autouse=True)
def no_kernels_and_a_total(request):
    import nbclient

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise KernelStarted("a fuzz case started a kernel")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(nbclient.NotebookClient, "async_start_new_kernel", refuse)
        mp.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9/")  # export never reaches a real store
        yield
    total = sum(CASES.values())
    line = f"fuzz cases passed (0 tracebacks, every failure one line): {total} " + json.dumps(CASES)
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print(f"\n{line}")


@pytest.fixture(scope="module")
def workspace():
    folder = Path(tempfile.mkdtemp(prefix="repro-fuzz-cli-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def cli(argv: list[str], cwd: Path | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.ExitStack() as stack:
        if cwd is not None:
            stack.enter_context(contextlib.chdir(cwd))
        stack.enter_context(contextlib.redirect_stdout(out))
        stack.enter_context(contextlib.redirect_stderr(err))
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def check_outcome(argv: list[str], code: int, out: str, err: str) -> None:
    """0, or 2 with exactly one error line; fsck's 1 means it found problems (and names them)."""
    command = next((a for a in argv if not a.startswith("-")), "")
    text = out + err
    assert "Traceback" not in text, (argv, text[-2000:])
    lines = [line for line in err.splitlines() if line.strip()]
    assert all(line.startswith("jupyter repro") for line in lines), (argv, err[-2000:])
    errors = [line for line in lines if ": warning: " not in line]
    if code == 0:
        assert not errors, (argv, err)
    elif code == 1:
        assert command == "fsck" and ("corrupt" in out or "missing" in out or "catalog" in out), (
            argv,
            out,
            err,
        )
    else:
        assert code == 2, (argv, code, text[-2000:])
        if not errors and command == "verify":  # verify's summary: one ERROR line per notebook given
            errors = [line for line in out.splitlines() if ": ERROR" in line][:1]  # -q too: one line each

        assert len(errors) == 1, (argv, text[-2000:])
        assert len(errors[0]) < 10_000, argv  # never a megabyte echoed (exact cuts: test_bad_input)


# ------------------------------------------------------------------------------------------ values

text = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=24)
hex64 = st.binary(min_size=32, max_size=32).map(lambda b: "sha256:" + b.hex())
digestish = st.one_of(
    hex64,
    hex64.map(lambda d: d[:-1]),
    hex64.map(str.upper),
    st.just("sha256:" + "a" * 5000),
    text.map(lambda t: "sha256:" + t),
)
leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    text,
    digestish,
)
json_value = st.recursive(
    leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3), max_leaves=12
)


def shaped(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """A dict with the right keys (each present or not) and values right or of any type."""
    return st.fixed_dictionaries({}, optional={k: st.one_of(v, json_value) for k, v in fields.items()}).map(
        lambda d: d
    )


seed = st.integers(min_value=-1, max_value=2**32)
NB_META = shaped(
    {
        "schema_version": st.sampled_from([1, 2, 0]),
        "master_seed": seed,
        "deterministic": st.booleans(),
        "environment": digestish,
        "store": st.sampled_from([".repro", "", "/abs", "s3://b/p"]),
    }
)
CELL_META = shaped(
    {
        "schema_version": st.just(1),
        "cell_key": text,
        "seed": seed,
        "record": digestish,
        "environment": digestish,
        "source": digestish,
        "outputs": digestish,
        "n_outputs": st.integers(-2, 5),
        "status": st.sampled_from(["ok", "error", "drift"]),
        "nondeterministic": st.booleans(),
    }
)
ABSENT = object()


def notebook_json(nb_meta: Any, cell_metas: list[Any], whole_cell_meta: Any = ABSENT) -> dict[str, Any]:
    cells = []
    for index, cm in enumerate(cell_metas):
        metadata: Any = {} if cm is ABSENT else {METADATA_KEY: cm}
        if index == 0 and whole_cell_meta is not ABSENT:
            metadata = whole_cell_meta  # cell metadata that is not even a dict
        cells.append(
            {
                "cell_type": "code",
                "id": f"c{index}",
                "metadata": metadata,
                "source": f"x = {index}",
                "outputs": [],
                "execution_count": None,
            }
        )
    metadata: dict[str, Any] = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
    }
    if nb_meta is not ABSENT:
        metadata[METADATA_KEY] = nb_meta
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": metadata, "cells": cells}


def dump(value: Any) -> str:
    return json.dumps(value, allow_nan=True)


# ------------------------------------------------------------------------------ notebook metadata

SAFE_READERS = [
    ["show", "{nb}"],
    ["lineage", "{nb}"],
    ["env", "export", "{nb}"],
    ["env", "diff", "{nb}", "{nb}"],
]
REFUSING = [["verify", "{nb}"], ["run", "{nb}"], ["check", "{nb}"], ["export", "mlflow", "{nb}"]]


@fuzz(3000)
@given(
    nb_meta=st.one_of(st.just(ABSENT), NB_META, json_value),
    cell_metas=st.lists(st.one_of(st.just(ABSENT), CELL_META, json_value), max_size=3),
    whole=st.one_of(st.just(ABSENT), json_value.filter(lambda v: not isinstance(v, dict))),
    command=st.integers(0, 7),
)
def test_notebook_and_cell_metadata_of_any_shape(workspace, nb_meta, cell_metas, whole, command):
    CASES["metadata"] = CASES.get("metadata", 0) + 1
    nb_path = workspace / "meta" / "nb.ipynb"
    nb_path.parent.mkdir(exist_ok=True)
    nb_path.write_text(dump(notebook_json(nb_meta, cell_metas or [ABSENT], whole)))
    try:
        read_notebook(nb_path)
        valid = True
    except NotebookError as exc:
        assert "\n" not in str(exc)
        valid = False
    pool = SAFE_READERS if valid else SAFE_READERS + REFUSING
    template = pool[command % len(pool)]
    argv = [a.format(nb=nb_path) for a in template]
    code, out, err = cli(argv, cwd=nb_path.parent)
    check_outcome(argv, code, out, err)
    if not valid:
        assert code == 2, (argv, out, err)


# ------------------------------------------------------------------------------ store objects


_ENVIRONMENT: list[dict[str, Any]] = []


def real_environment() -> dict[str, Any]:
    """This interpreter's environment snapshot, captured once (a module value, not a fixture argument,
    so a failing example does not print 200 package versions)."""
    if not _ENVIRONMENT:
        from repro_jupyter.environment import capture

        _ENVIRONMENT.append(capture(Path(tempfile.gettempdir())))
    return _ENVIRONMENT[0]


def _mutate(value: Any, path: list[int], replacement: Any) -> Any:
    """``value`` with the node reached by ``path`` (indexes into keys / items) replaced."""
    if not path or not isinstance(value, (dict, list)) or not value:
        return replacement
    if isinstance(value, dict):
        keys = sorted(value)
        key = keys[path[0] % len(keys)]
        return {**value, key: _mutate(value[key], path[1:], replacement)}
    index = path[0] % len(value)
    return [*value[:index], _mutate(value[index], path[1:], replacement), *value[index + 1 :]]


MINIMAL_RECORD = {
    "schema_version": 1,
    "kind": "cell_record",
    "cell_key": "c0",
    "source": "sha256:" + "0" * 64,
    "master_seed": 1,
    "seed": 2,
    "environment": None,  # filled in with the environment's digest
    "rng": {"before": {}, "after": {}},
    "outputs": [],
    "status": "ok",
    "state": {"variables": {}},
    "params": {},
    "inputs": [],
}


def _not_json(data: bytes) -> bool:
    try:
        json.loads(data)
    except (ValueError, RecursionError):
        return True
    return False


broken_bytes = st.one_of(
    st.binary(max_size=64).filter(_not_json),
    st.sampled_from(
        [b'{"kind": "environment", "python": ', b"\xff\xfe{}", b"[" * 100_000, b'{"kind": "cell_record"']
    ),
)
STORE_COMMANDS = [
    ["show", "{nb}"],
    ["show", "--json", "{nb}"],
    ["lineage", "{nb}"],
    ["env", "export", "{nb}"],
    ["env", "export", "--format", "conda", "{nb}"],
    ["env", "export", "--format", "dockerfile", "{nb}"],
    ["env", "diff", "{nb}", "{nb}"],
    ["fsck", "{dir}"],
    ["gc", "--dry-run", "--grace", "0", "{dir}"],
    ["fsck", "--rebuild-catalog", "{dir}"],
]


def _store_case(workspace: Path, which: str, how: str, target: bytes, command: int) -> None:
    """A store whose ``which`` object (environment or record) holds ``target`` (stored intact, stored
    under the name of other bytes, or not stored), a notebook pointing at it, one command."""
    from repro_jupyter.canonical import canonical_bytes
    from repro_jupyter.store import open_store

    folder = Path(tempfile.mkdtemp(dir=workspace, prefix="obj-"))
    try:
        store = open_store(folder)
        env_bytes = target if which == "environment" else canonical_bytes(real_environment())
        env_digest = "sha256:" + hashlib.sha256(env_bytes).hexdigest()
        record_bytes = (
            target if which == "record" else canonical_bytes({**MINIMAL_RECORD, "environment": env_digest})
        )
        record_digest = "sha256:" + hashlib.sha256(record_bytes).hexdigest()
        damaged = env_digest if which == "environment" else record_digest
        for blob, digest in ((env_bytes, env_digest), (record_bytes, record_digest)):
            if digest == damaged and how == "absent":
                continue
            if digest == damaged and how == "corrupt":  # named as the intact bytes would be
                object_path = store.objects.path_for(digest)
                object_path.parent.mkdir(parents=True, exist_ok=True)
                object_path.write_bytes(blob + b" ")
            else:
                store.objects.put_bytes(blob)
        store.catalog.add_environment(env_digest)
        store.catalog.add_cell_execution("r", "c0", record_digest, env_digest, 2, 0.0, 0.0, "ok")
        store.close()
        nb_meta = {"schema_version": 1, "master_seed": 1, "environment": env_digest}
        cell_meta = {
            "schema_version": 1,
            "cell_key": "c0",
            "seed": 2,
            "record": record_digest,
            "environment": env_digest,
            "source": "sha256:" + "0" * 64,
            "outputs": "sha256:" + "1" * 64,
            "n_outputs": 0,
            "status": "ok",
        }
        nb_path = folder / "nb.ipynb"
        nb_path.write_text(dump(notebook_json(nb_meta, [cell_meta])))
        argv = [a.format(nb=nb_path, dir=folder) for a in STORE_COMMANDS[command]]
        code, out, err = cli(argv, cwd=folder)
        check_outcome(argv, code, out, err)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _record(env_digest: str = "sha256:" + "e" * 64) -> dict[str, Any]:
    return {**MINIMAL_RECORD, "environment": env_digest}


def _target(which: str, how: str, path: list[int], replacement: Any, raw: bytes) -> bytes:
    from repro_jupyter.canonical import canonical_bytes

    env_digest = "sha256:" + hashlib.sha256(canonical_bytes(real_environment())).hexdigest()
    original = real_environment() if which == "environment" else _record(env_digest)
    if how == "mutated":
        value = _mutate(original, path, replacement)
        value["kind"] = original["kind"]  # still says what it is: the schema decides
        return dump(value).encode()
    return raw if how == "bytes" else dump(original).encode()


@fuzz(2500)
@given(
    which=st.sampled_from(["environment", "record", "record"]),
    how=st.sampled_from(["mutated", "mutated", "bytes", "corrupt", "absent"]),
    path=st.lists(st.integers(0, 50), min_size=1, max_size=4),
    replacement=json_value,
    raw=broken_bytes,
    command=st.integers(0, len(STORE_COMMANDS) - 1),
)
def test_store_objects_read_back(workspace, which, how, path, replacement, raw, command):
    """Records with one field of any type or shape (the wrong schema: a hand edit, a crafted team
    store, an older writer), records and environments that are no JSON, whose bytes do not match
    their name, or that are not there: every reader says so in one line."""
    if which == "environment" and how == "mutated":
        how = "bytes"  # environments of the wrong schema: the property below
    CASES["store objects"] = CASES.get("store objects", 0) + 1
    _store_case(workspace, which, how, _target(which, how, path, replacement, raw), command)


@fuzz(500)
@given(
    path=st.lists(st.integers(0, 50), min_size=1, max_size=4),
    replacement=json_value,
    command=st.integers(0, 9),
)
def test_environments_of_the_wrong_schema(workspace, path, replacement, command):
    _store_case(
        workspace,
        "environment",
        "mutated",
        _target("environment", "mutated", path, replacement, b""),
        command,
    )


@fuzz(300)
@given(
    which=st.sampled_from(["environment", "record"]),
    value=json_value.filter(
        lambda v: not (isinstance(v, dict) and v.get("kind") in ("environment", "cell_record"))
    ),
    command=st.integers(0, len(STORE_COMMANDS) - 1),
)
def test_store_objects_of_another_shape(workspace, which, value, command):
    """A pointer naming intact JSON that is no record or environment at all (a list, a number, {})."""
    _store_case(workspace, which, "replaced", dump(value).encode(), command)


# ------------------------------------------------------------------------------ pyproject settings


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return (
            "nan"
            if math.isnan(value)
            else ("inf" if value > 0 else "-inf")
            if math.isinf(value)
            else repr(value)
        )
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    return '""'  # None has no TOML form


toml_leaf = st.one_of(st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(), text)
toml_any = st.recursive(
    toml_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
regexish = st.one_of(
    text, st.sampled_from(["([a-z", "a{2,1}", "(?P<x>a)", "\\d+", "(?<=a+)b", "*", "a|b", ""])
)
replaceish = st.one_of(text, st.sampled_from(["\\1", "\\g<x>", "\\g<0>", "<N>", "\\", ""]))
normalize_rule = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(text, toml_any),
        "pattern": st.one_of(regexish, toml_any),
        "replace": replaceish,
    },
)
number = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-5, 5),
    text,
    st.booleans(),
    st.sampled_from([0.5, 1e-9]),
)
TOOL = st.fixed_dictionaries(
    {},
    optional={
        "rtol": number,
        "atol": number,
        "ssim-threshold": number,
        "normalize": st.one_of(st.lists(st.one_of(normalize_rule, toml_any), max_size=3), toml_any),
        "store": st.one_of(
            text.filter(lambda t: "://" not in t), toml_any, st.sampled_from(["s3://bucket/p", "nosuch://x"])
        ),
        "unknown-key": toml_any,
    },
)
PYPROJECT_COMMANDS = [["fsck", "{dir}"], ["gc", "--dry-run", "{dir}"], ["show", "{nb}"], ["sync", "{dir}"]]


@fuzz(2000)
@given(
    tool=TOOL,
    garbage=st.one_of(st.none(), st.none(), st.text(max_size=40)),
    command=st.integers(0, len(PYPROJECT_COMMANDS) - 1),
)
def test_pyproject_settings(workspace, tool, garbage, command):
    CASES["pyproject"] = CASES.get("pyproject", 0) + 1
    folder = workspace / "pyproject"
    (folder / ".repro" / "objects").mkdir(parents=True, exist_ok=True)
    nb_path = folder / "nb.ipynb"
    if not nb_path.exists():
        nb_path.write_text(dump(notebook_json(ABSENT, [ABSENT])))
    body = "[tool.repro-jupyter]\n" + "".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in tool.items())
    (folder / "pyproject.toml").write_text(body if garbage is None else garbage)
    compare_refused = location_refused = False
    try:
        opts = options_from_pyproject(folder, CompareOptions())
        rules = compile_rules(opts.extra_rules)
        normalize_text("2024-01-01 value 1.5 at 0x7f00 id=abc", rules)  # the rules apply without error
    except UsageError as exc:
        assert "\n" not in str(exc)
        compare_refused = True
    try:
        resolve_location(folder)
    except ReproError as exc:
        assert "\n" not in str(exc)
        location_refused = True
    argv = [a.format(nb=nb_path, dir=folder) for a in PYPROJECT_COMMANDS[command]]
    code, out, err = cli(argv, cwd=folder)
    check_outcome(argv, code, out, err)
    if location_refused and argv[0] != "show":  # show of an unrecorded notebook opens no store
        assert code == 2, (argv, code, out, err)
    if compare_refused:  # verify must refuse too, before any kernel
        code, out, err = cli(["verify", str(nb_path)], cwd=folder)
        check_outcome(["verify"], code, out, err)
        assert code == 2, ("verify", code, out, err)
    if location_refused:
        code, out, err = cli(["run", str(nb_path)], cwd=folder)
        check_outcome(["run"], code, out, err)
        assert code == 2, ("run", code, out, err)


# ------------------------------------------------------------------------------ command lines


def _options_by_command() -> dict[tuple[str, ...], list[str]]:
    """Every option string of every (sub)command, read from the real parser."""
    import argparse

    found: dict[tuple[str, ...], list[str]] = {}

    def walk(parser: argparse.ArgumentParser, prefix: tuple[str, ...]) -> None:
        options = []
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, (*prefix, name))
            elif action.option_strings and "--help" not in action.option_strings:
                options += action.option_strings
        found[prefix] = options

    walk(build_parser(), ())
    return found


OPTIONS = _options_by_command()
COMMAND_PATHS = sorted(k for k in OPTIONS if k)
PATH_NAMES = ["nb.ipynb", "garbage.ipynb", "badmeta.ipynb", "notes.txt", "folder", "missing.ipynb", "."]
SAFE_PATHS = {"nb.ipynb"}  # a valid recorded notebook: only commands that start no kernel get it

token = st.one_of(
    text,
    st.sampled_from(PATH_NAMES),
    st.integers(-(2**40), 2**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["sha256:" + "a" * 64, "current", "", "-", "--", "-x", "--nope", "a" * 300]),
)


@pytest.fixture(scope="module")
def argv_folder(workspace):
    """A folder with one valid recorded notebook (store included) and every kind of bad file."""
    from repro_jupyter.store import open_store

    folder = workspace / "argv"
    folder.mkdir()
    store = open_store(folder)
    digest, _ = store.objects.put_json(real_environment())
    store.catalog.add_environment(digest)
    store.close()
    meta = {"schema_version": 1, "master_seed": 1, "environment": digest}
    (folder / "nb.ipynb").write_text(dump(notebook_json(meta, [ABSENT])))
    (folder / "garbage.ipynb").write_bytes(b"\x00{not json")
    (folder / "badmeta.ipynb").write_text(dump(notebook_json([1, 2], [{"record": 5}])))
    (folder / "notes.txt").write_text("hello")
    (folder / "folder").mkdir()
    return folder


@fuzz(3000)
@given(command=st.sampled_from(COMMAND_PATHS), data=st.data())
def test_command_lines(argv_folder, command, data):
    CASES["command lines"] = CASES.get("command lines", 0) + 1
    skipped: set[str] = set()  # --seeds and -j are bounded before anything runs (they were not: 2**40)
    if command[0] == "verify":  # report files: see test_verify_report_to_an_unwritable_path_is_one_line
        skipped = {"--report-json", "--junit", "--html"}
    options = [o for o in OPTIONS[command] if o not in skipped] + ["--nope", "-Z"]
    pieces = data.draw(
        st.lists(st.one_of(st.sampled_from(options).map(lambda o: [o]), token.map(lambda t: [t])), max_size=5)
    )
    argv = list(command) + [t for piece in pieces for t in piece]
    if command[0] == "gc":
        argv.insert(1, "--dry-run")
    if command[0] in KERNEL_COMMANDS:  # a valid notebook would start a kernel: give it only bad ones
        argv = [a if a not in SAFE_PATHS else "badmeta.ipynb" for a in argv]
    if command[0] == "sync":
        argv = [a for a in argv if "://" not in a]
    code, out, err = cli(argv, cwd=argv_folder)
    check_outcome(argv, code, out, err)
    if command[0] == "gc":
        assert (argv_folder / ".repro" / "objects").is_dir()


@pytest.mark.parametrize("option", ["--report-json", "--junit", "--html"])
def test_verify_report_to_an_unwritable_path_is_one_line(argv_folder, option):
    for target in ("", "folder", "no/such/folder/r.xml"):
        argv = ["verify", "missing.ipynb", option, target]
        code, out, err = cli(argv, cwd=argv_folder)
        check_outcome(argv, code, out, err)
