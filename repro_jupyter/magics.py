"""``%repro`` and ``%%repro``: the IPython face of the recorder.

``%%repro`` cells are rewritten by an input transformer into a ``%repro _begin``
call followed by the cell body, so the body runs as a normal top-level cell
(last-expression display, tracebacks, history all unchanged) and recording ends
in ``post_run_cell`` exactly as for ``%repro on``.  The registered cell magic is
the fallback for callers that bypass transformers (``run_cell_magic``).
"""

from __future__ import annotations

import argparse
import atexit
import json
import shlex
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from traitlets import Bool, Integer, Unicode, observe

from .checkpoint.snapshot_pool import POOL
from .errors import ReproError
from .kernel_comm import KernelComm
from .magic_args import MagicParser, cell_parser, configuration_commands, seed_arg, split_options
from .magics_support import LabComm, Pin, install_warning_format, status_lines
from .notebook_path import NotebookLocation
from .recorder import CellOptions, RecordingSession, ReproWarning
from .status_widget import in_kernel, show_status_widget

CELL_MAGIC_PREFIX = "%%repro"

_Method = TypeVar("_Method", bound=Callable[..., Any])
_Marker = Callable[[str], Callable[[Any], object]]


def _magic(marker: _Marker, name: str) -> Callable[[_Method], _Method]:
    """IPython's ``cell_magic(name)`` / ``line_magic(name)`` (mypy reads IPython's typing of it as
    ``(Never) -> Never``): the same decorator runs, and the method keeps its signature for mypy."""
    record = marker(name)

    def mark(method: _Method) -> _Method:
        record(method)
        return method

    return mark


@magics_class
class ReproMagics(Magics):
    """Options are traitlets: ``%config ReproMagics.deterministic = True``."""

    deterministic = Bool(False, help="Turn on deterministic algorithms for recorded cells.").tag(config=True)
    auto_seed = Bool(
        True,
        help="Give generators a recorded cell creates without a seed (np.random.default_rng(), "
        "random.Random(), torch.Generator().seed(), ...) a seed derived from the cell seed.",
    ).tag(config=True)
    state = Bool(True, help="Fingerprint the user namespace after each recorded cell.").tag(config=True)
    input_size_cap = Integer(1 << 30, help="Opened input files above this size are listed, not hashed.").tag(
        config=True
    )
    checkpoints = Bool(True, help="Checkpoint changed variables into the store.").tag(config=True)
    checkpoint_max_object_bytes = Integer(2 << 30, help="Larger variables are not checkpointed.").tag(
        config=True
    )
    checkpoint_max_cell_bytes = Integer(4 << 30, help="Checkpoint budget per cell.").tag(config=True)
    checkpoint_backlog_bytes = Integer(
        2 << 30, help="Snapshot bytes that may wait for the store writer before a cell waits for it."
    ).tag(config=True)
    checkpoint_snapshot_pool_bytes = Integer(
        1 << 30, help="Finished snapshot buffers kept for reuse (a big in-place change copies into them)."
    ).tag(config=True)
    store_url = Unicode(
        "", help="Store location (path or fsspec URL such as s3://bucket/prefix); wins over the environment."
    ).tag(config=True)

    def __init__(
        self,
        shell: Any,
        location: NotebookLocation | None = None,
        comm_factory: Callable[[RecordingSession], KernelComm] = LabComm,
        **kwargs: Any,
    ) -> None:
        """The session is made once, after traitlets applied the config (``%config``, profiles), and
        ``_sync_traits`` is the one place that hands the traits to it.  ``location``: where the runner
        says the notebook is (else ``JPY_SESSION_NAME``, as Jupyter Server tells kernels)."""
        super().__init__(shell, **kwargs)
        self.session = RecordingSession(shell, location or NotebookLocation.from_environment())
        self.comm: KernelComm = comm_factory(self.session)
        self._pending: tuple[str | None, str] = (None, "")
        self._pin: Pin | None = None
        self._pinning = False  # the runner itself is changing a trait
        self._sync_traits()

    @observe(
        "deterministic",
        "auto_seed",
        "state",
        "input_size_cap",
        "checkpoints",
        "checkpoint_max_object_bytes",
        "checkpoint_max_cell_bytes",
        "checkpoint_backlog_bytes",
        "checkpoint_snapshot_pool_bytes",
        "store_url",
    )
    def _on_trait(self, change: Any) -> None:
        if "session" in self.__dict__:  # config is applied during __init__, before the session
            if change["name"] == "deterministic" and self._pin is not None and not self._pinning:
                self._pin.asked_deterministic = True  # %config during a replay: the user's choice
            self._sync_traits()

    # --- a runner's pin ------------------------------------------------------------------
    def pin(self, kind: str, seed: int | None, deterministic: bool) -> None:
        """Every cell recorded as ``kind`` with the runner's seed (``_record_every_cell``)."""
        if self._pin is None:
            self._pin = Pin(bool(self.deterministic))
        self._pin.over = False
        self.session.pin(seed, kind)
        if deterministic:
            self._set_deterministic(True)

    def end_pin_before_next_cell(self) -> None:
        """A Lab replay ran to its end: the next cell the user runs gets the user's settings back (silent
        requests fire no cell events, so unpinning waits for ``pre_run_cell``)."""
        if self._pin is not None and self.session.kind == "replay":
            self._pin.over = True

    def end_pin(self) -> bool:
        """Back to the user's settings (seed, deterministic, recording, kind); False if not pinned."""
        pin, self._pin = self._pin, None
        if pin is None:
            return False
        if not pin.asked_deterministic:
            self._set_deterministic(pin.deterministic)
        self.session.unpin()
        return True

    def _set_deterministic(self, value: bool) -> None:
        self._pinning = True
        try:
            self.deterministic = value
        finally:
            self._pinning = False

    def _sync_traits(self) -> None:
        self.session.deterministic = bool(self.deterministic)
        self.session.auto_seed = bool(self.auto_seed)
        self.session.state_enabled = bool(self.state)
        self.session.input_size_cap = int(self.input_size_cap)
        self.session.checkpoints.enabled = bool(self.checkpoints)
        self.session.checkpoints.max_object_bytes = int(self.checkpoint_max_object_bytes)
        self.session.checkpoints.max_cell_bytes = int(self.checkpoint_max_cell_bytes)
        self.session.checkpoints.backlog.limit = int(self.checkpoint_backlog_bytes)
        POOL.limit = int(self.checkpoint_snapshot_pool_bytes)
        if POOL.limit <= 0:
            POOL.clear()
        self.session.store_url = self.store_url or None

    # --- hooks -------------------------------------------------------------------------------
    def pre_run_cell(self, info: Any) -> None:
        """IPython's ``pre_run_cell``: a pinned replay that is over ends here; with ``%repro on`` the cell
        starts being recorded, unless ``_records`` says no or it is a ``%%repro`` cell (it begins itself)."""
        raw = info.raw_cell or ""
        self._pending = (getattr(info, "cell_id", None), raw)
        if self._pin is not None and self._pin.over:
            self.end_pin()  # the Lab replay is over: this cell is the user's
        if (
            self.session.record_all
            and self.session.active is None
            and not raw.lstrip().startswith(CELL_MAGIC_PREFIX)
            and self._records(raw)
        ):
            self.session.begin(self._pending[0], raw, CellOptions())

    @staticmethod
    def _records(raw: str) -> bool:
        """Configuration cells (``%load_ext``, ``%repro status|env|seed|on|state``) are not recorded:
        they produce no result, and their record would make a fresh kernel's environment the
        notebook's.  A ``%repro off`` cell still is: it began while recording was on."""
        commands = configuration_commands(raw)
        return commands is None or "off" in commands

    def post_run_cell(self, result: Any) -> None:
        """IPython's ``post_run_cell``: finish the record of the cell being recorded, with its error."""
        if self.session.active is not None:
            self.session.end(result.error_in_exec or result.error_before_exec)

    def transform(self, lines: list[str]) -> list[str]:
        """``%%repro ARGS`` + body  ->  ``get_ipython().run_line_magic('repro', '_begin ARGS')`` + body."""
        if not lines:
            return lines
        first = lines[0]
        stripped = first.strip()
        if stripped != CELL_MAGIC_PREFIX and not stripped.startswith(CELL_MAGIC_PREFIX + " "):
            return lines
        args = stripped[len(CELL_MAGIC_PREFIX) :].strip()
        call = f"get_ipython().run_line_magic('repro', {('_begin ' + args).strip()!r})\n"
        return [call, *lines[1:]]

    # --- magics -------------------------------------------------------------------------------
    @_magic(cell_magic, "repro")
    def repro_cell(self, line: str, cell: str) -> None:
        """Fallback when transformers were bypassed: record ``cell`` with the options in ``line``."""
        self._begin(line, source=f"{CELL_MAGIC_PREFIX} {line}\n{cell}")
        assert self.shell is not None  # a registered magic always has its shell (IPython asserts the same)
        result = self.shell.run_cell(cell, store_history=False)
        if self.session.active is not None:
            self.session.end(result.error_in_exec or result.error_before_exec)

    @_magic(line_magic, "repro")
    def repro_line(self, line: str) -> Any:
        """%repro on|off|status|env|seed N ... (see ``%repro?``)."""
        words = split_options(line)
        if not words:
            raise UsageError("%repro: expected one of: on, off, status, env, seed")
        command, rest = words[0], words[1:]
        handler = getattr(self, f"_cmd_{command.lstrip('_')}", None)
        if handler is None or command.startswith("__"):
            raise UsageError(
                f"%repro: unknown command {command!r} (on, off, status, env, seed, state, restore, checkout)"
            )
        return handler(rest)

    def _begin(self, line: str, source: str | None = None) -> None:
        args = cell_parser().parse_args(split_options(line))
        options = CellOptions(
            seed=args.seed,
            inputs=args.inputs,
            params=args.params,
            state=not args.no_state,
            deterministic=args.deterministic or None,
        )
        cell_id, raw = self._pending
        self.session.begin(cell_id, source if source is not None else raw, options)

    def _cmd_begin(self, rest: list[str]) -> None:
        self._begin(shlex.join(rest))

    def _cmd_on(self, rest: list[str]) -> None:
        p = MagicParser(prog="%repro on", add_help=False)
        p.add_argument("--seed", type=seed_arg)
        p.add_argument("--deterministic", action="store_true")
        p.add_argument("--no-state", action="store_true")
        p.add_argument("--no-auto-seed", action="store_true")
        args = p.parse_args(rest)
        if args.no_auto_seed:
            self.auto_seed = False
        if args.seed is not None:
            self.session.set_master_seed(args.seed, "explicit")
        if args.deterministic:
            self.deterministic = True
        if args.no_state:
            self.state = False
        self.session.record_all = True
        self.session.requested_recording = True if self.session.pinned else None
        self.session.ensure_master_seed()
        self.comm.send_notebook_metadata()

    def _cmd_off(self, rest: list[str]) -> None:
        if rest:
            raise UsageError("%repro off takes no arguments")
        self.session.record_all = False
        self.session.requested_recording = False if self.session.pinned else None

    def _cmd_seed(self, rest: list[str]) -> None:
        if len(rest) != 1:
            raise UsageError("usage: %repro seed N")
        try:
            seed = seed_arg(rest[0])
        except argparse.ArgumentTypeError as exc:
            raise UsageError(f"%repro seed: {exc}") from None
        if self.session.set_master_seed(seed, "explicit"):  # else a one-line warning said why not
            print(f"master seed {seed}: the cells run from now on are seeded from it")
        self.comm.send_notebook_metadata()

    def _cmd_state(self, rest: list[str]) -> None:
        """%repro state on|off|full: variable fingerprints and checkpoints (full: hash everything)."""
        if rest not in (["on"], ["off"], ["full"]):
            raise UsageError("usage: %repro state on|off|full")
        self.state = rest[0] != "off"
        self.session.state.full = rest[0] == "full"

    def _restore(self, rest: list[str], checkout: bool) -> None:
        p = MagicParser(prog="%repro checkout" if checkout else "%repro restore", add_help=False)
        p.add_argument("cell", help="a cell id or a record digest (sha256:...)")
        if not checkout:
            p.add_argument("names", nargs="*")
        p.add_argument("--eager", action="store_true", help="load into memory instead of memory-mapping")
        p.add_argument("--store", help="read from this store (a .repro folder) instead of the notebook's")
        args = p.parse_args(rest)
        from .checkpointing import restore

        try:
            results = restore(
                self.session,
                args.cell,
                None if checkout else (args.names or None),
                lazy=not args.eager,
                drop_others=checkout,
                store_root=args.store,
            )
        except ReproError as exc:
            raise UsageError(f"%repro {'checkout' if checkout else 'restore'}: {exc}") from None
        done = [n for n, r in results.items() if r.startswith("restored")]
        print(
            f"restored {len(done)} variable(s) from cell {args.cell}: {', '.join(done[:12])}"
            + (" …" if len(done) > 12 else "")
        )
        for name, result in results.items():
            if not result.startswith("restored"):
                print(f"  {name}: {result}")

    def _cmd_restore(self, rest: list[str]) -> None:
        self._restore(rest, checkout=False)

    def _cmd_checkout(self, rest: list[str]) -> None:
        self._restore(rest, checkout=True)

    def _cmd_status(self, rest: list[str]) -> None:
        lines = status_lines(self.session)
        print("\n".join(lines))
        if not self.comm.frontend_seen and in_kernel(self.shell):
            show_status_widget(lines, self.session)

    def _cmd_env(self, rest: list[str]) -> None:
        p = MagicParser(prog="%repro env", add_help=False)
        p.add_argument("--json", action="store_true")
        p.add_argument("--refresh", action="store_true")
        args = p.parse_args(rest)
        snapshot, digest = self.session.environment(refresh=args.refresh)
        if args.json:
            print(json.dumps(snapshot, indent=1, sort_keys=True))
        else:
            from .environment.summary import environment_summary

            print(environment_summary(snapshot, digest))


# --- loading -------------------------------------------------------------------------------

_LOADED: dict[int, ReproMagics] = {}


def loaded(shell: Any) -> ReproMagics | None:
    """The magics registered on ``shell``, if the extension (or a runner) loaded them."""
    return _LOADED.get(id(shell))


def register(
    shell: Any,
    location: NotebookLocation | None = None,
    comm_factory: Callable[[RecordingSession], KernelComm] = LabComm,
) -> ReproMagics:
    """Make the magics and hook them into ``shell`` (the cell events, the ``%%repro`` transformer)."""
    magics = ReproMagics(shell, location=location, comm_factory=comm_factory, parent=shell)
    shell.register_magics(magics)
    shell.events.register("pre_run_cell", magics.pre_run_cell)
    shell.events.register("post_run_cell", magics.post_run_cell)
    shell.input_transformers_cleanup.append(magics.transform)
    _LOADED[id(shell)] = magics
    return magics


def load(shell: Any) -> ReproMagics:
    """Idempotent: a second ``%load_ext`` (or a runner) reuses the same session."""
    existing = loaded(shell)
    if existing is not None:
        return existing
    install_warning_format()
    magics = register(shell)
    magics.comm.open()
    atexit.register(magics.session.close)
    return magics


def unload(shell: Any) -> None:
    """Undo ``load``: end a cell still being recorded, unregister the hooks and the transformer,
    close the comm and the session (flushing its writes); no-op when not loaded."""
    magics = _LOADED.pop(id(shell), None)
    if magics is None:
        return
    if magics.session.active is not None:
        magics.session.end(None)
    shell.events.unregister("pre_run_cell", magics.pre_run_cell)
    shell.events.unregister("post_run_cell", magics.post_run_cell)
    if magics.transform in shell.input_transformers_cleanup:
        shell.input_transformers_cleanup.remove(magics.transform)
    magics.comm.close()
    magics.session.close()


warnings.filterwarnings("always", category=ReproWarning)
__all__ = ["ReproMagics", "load", "loaded", "register", "unload"]
