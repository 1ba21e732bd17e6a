"""Recording one cell execution: seed, observe, then write the record to the store.

``RecordingSession`` lives as long as the kernel.  ``begin`` seeds the RNGs and
starts the observers; ``end`` stops them, builds the cell record (no timestamps:
its digest must be stable across re-runs), writes record and environment to the
store, appends the volatile facts to the catalog's run log, and returns the small
cell metadata that the frontend (or the headless runner) puts into the notebook.
A failure in recording never fails the user's cell: it becomes one warning line.
"""

from __future__ import annotations

import time
import uuid
import warnings
from contextlib import ExitStack
from typing import Any

from . import seeding
from .canonical import canonical_bytes, digest_bytes, digest_json
from .cell_record import ActiveCell, CellOptions, build_record, cell_key_for
from .checkpointing import Checkpointer
from .environment import EnvironmentTracker
from .errors import ReproError, ReproWarning
from .inputs import DEFAULT_SIZE_CAP, OpenedFiles
from .namespace import StateTracker
from .notebook_path import NotebookLocation
from .outputs import OutputCapture
from .redaction import redact_data
from .schema import SCHEMA_VERSION
from .session_settings import SessionSettings, UserSettings
from .store import STORE_DIRNAME, Store, open_store, resolve_location
from .store.writer import BackgroundWriter
from .unseeded import detect_unseeded


def _write_environment(store: Store, data: bytes, digest: str) -> None:
    store.objects.put_bytes(data)
    store.catalog.add_environment(digest)


class RecordingSession(SessionSettings):
    """One kernel's recording: its settings (seed, deterministic mode, state, store), the store and its
    background writer, the run in the catalog's log, and the cell being recorded (``begin``/``end``)."""

    def __init__(self, shell: Any, location: NotebookLocation) -> None:
        self.shell = shell
        self.location = location
        self.master_seed: int | None = None
        self.master_seed_source = "unset"  # unset | generated | notebook | explicit | pinned
        self.deterministic = False
        self.auto_seed = True  # unseeded generators get seeds derived from the cell seed
        self.record_all = False
        self.state_enabled = True
        self.input_size_cap = DEFAULT_SIZE_CAP
        self.store_url: str | None = None  # ReproMagics.store_url: wins over env and pyproject.toml
        self.kind = "interactive"
        self.cell_metadata: dict[str, dict[str, Any]] = {}
        self.on_recorded: list[Any] = []  # callbacks(cell_key, cell_metadata, notebook_metadata)
        # callbacks(cell_key, record_digest, ok), from the store writer's thread once the record is
        # on disk (ok) or failed to get there: readers of the store wait for this, not for on_recorded
        self.on_written: list[Any] = []
        self.active: ActiveCell | None = None
        self.last_environment: str | None = None  # of the last cell recorded by this kernel
        # the environment pointer the notebook already holds (the frontend's copy, else the file);
        # kept in the notebook metadata until this kernel records a cell of its own
        self.notebook_environment: str | None = None
        self._notebook_environment_known = False
        # while a runner pins the kernel: what the user had, and what the notebook asked for
        self.pinned_from: UserSettings | None = None
        self.requested_seed: tuple[int, str] | None = None
        self.requested_recording: bool | None = None
        self._store: Store | None = None
        self._store_failed: str | None = None
        self._writer: BackgroundWriter | None = None
        self.state = StateTracker()
        self.checkpoints = Checkpointer()
        self._written_envs: set[str] = set()
        self._run_id: str | None = None
        self._env = EnvironmentTracker(str(location.directory), git_exclude=location.git_exclude())

    def ensure_master_seed(self) -> int:
        """The master seed, chosen on first use: the one saved in the notebook, else a new one (marked
        generated, so a seed the frontend sends later may still replace it)."""
        if self.master_seed is None:
            recorded = self.location.recorded_master_seed()
            if recorded is not None:
                self.set_master_seed(recorded, "notebook")
            else:
                self.set_master_seed(seeding.new_master_seed(), "generated")
        assert self.master_seed is not None
        return self.master_seed

    def notebook_metadata(self) -> dict[str, Any]:
        """The notebook-level ``repro_jupyter`` metadata the frontend writes: seed, deterministic mode,
        store label (never a credential) and the environment of the last recorded cell."""
        meta: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "master_seed": self.ensure_master_seed(),
            "deterministic": self.deterministic,
            "store": self._store_label(),
        }
        if self._store is not None and self._store.fallback_reason and not self._store.url:
            meta["store_fallback"] = "user cache"  # records are not in `store`, only on this machine
        environment = self.last_environment or self.saved_environment()
        if environment:
            meta["environment"] = environment
        return meta

    # --- store ----------------------------------------------------------------------------
    def _store_label(self) -> str:
        """A team store is named by its credential-free URL; a local one stays relative (``.repro``)."""
        if self._store is not None:
            return self._store.url or STORE_DIRNAME
        try:
            return resolve_location(self.location.directory, self.store_url).url or STORE_DIRNAME
        except ReproError:
            return STORE_DIRNAME

    def store(self) -> Store | None:
        """The session's store, opened on first use; None (warned once) when it cannot be opened: the cells
        then run unrecorded rather than fail."""
        if self._store is None and self._store_failed is None:
            try:
                self._store = open_store(self.location.directory, url=self.store_url or None)
                if self._store.fallback_reason and self.kind == "interactive":
                    # headless and replay runs: the runner names the cache store (``stored_check``);
                    # a warning here would become an output of the cell that happened to record first
                    warnings.warn(f"repro store: {self._store.fallback_reason}", ReproWarning, stacklevel=2)
            except ReproError as exc:
                self._store_failed = str(exc)
                warnings.warn(f"{exc}; cells run unrecorded", ReproWarning, stacklevel=2)
        return self._store

    def writer(self, store: Store) -> BackgroundWriter:
        """The background writer for ``store`` (one thread per session), made on first use."""
        if self._writer is None:
            self._writer = BackgroundWriter(store)
        return self._writer

    def run_id(self, store: Store) -> str:
        """This kernel's run id; the first call starts the run in the catalog (through the writer)."""
        if self._run_id is None:
            self._run_id = uuid.uuid4().hex
            self.writer(store).submit(
                lambda st, *a: st.catalog.start_run(*a),
                self.location.relative_name(),
                self.kind,
                self.master_seed,
                self._run_id,
            )
        return self._run_id

    def environment(self, refresh: bool = False) -> tuple[dict[str, Any], str]:
        """The kernel's environment snapshot and its digest (``refresh``: look again, e.g. after a
        ``pip install`` in the kernel; otherwise the tracker's cached view)."""
        if refresh:
            self._env.invalidate()
        snapshot, digest, _ = self._env.current()
        return snapshot, digest

    def durable_environment(self) -> str | None:
        """The current environment's digest, written to the store and flushed (for the panel's diff)."""
        snapshot, digest, _ = self._env.current()
        store = self.store()
        if store is None:
            return None
        self._write_environment_once(store, snapshot, digest)
        self.flush()
        return digest

    def _write_environment_once(self, store: Store, snapshot: dict[str, Any], digest: str) -> None:
        """Queue the environment for the store unless this kernel wrote it already."""
        if digest not in self._written_envs:
            self.writer(store).submit(_write_environment, canonical_bytes(snapshot), digest)
            self._written_envs.add(digest)

    def flush(self) -> None:
        """Wait until every record so far is on disk; report write failures as one line each."""
        if self._writer is not None:
            for error in self._writer.flush():
                warnings.warn(f"repro: a record could not be written: {error}", ReproWarning, stacklevel=2)

    def close(self) -> None:
        """End the run in the log, flush and release the store (idempotent; recording can resume)."""
        if self._store is None:
            return
        if self._writer is not None:
            if self._run_id is not None:
                self._writer.submit(lambda st, run_id: st.catalog.finish_run(run_id), self._run_id)
            for error in self._writer.close():
                warnings.warn(f"repro: a record could not be written: {error}", ReproWarning, stacklevel=2)
            self._writer = None
        else:
            self._store.close()
        self._run_id = None
        self._store = None
        self._written_envs.clear()

    # --- one cell -------------------------------------------------------------------------
    def begin(self, cell_id: str | None, source: str, options: CellOptions) -> None:
        """Before a recorded cell runs: seed every RNG from its derived seed, apply deterministic mode,
        and start the observers (outputs, opened files, unseeded generators, nondeterminism warnings)."""
        if self.active is not None:  # a nested or unfinished cell: finish it first
            self.end(None)
        key = cell_key_for(cell_id, source)
        master = self.ensure_master_seed()
        seed = options.seed if options.seed is not None else seeding.derive_cell_seed(master, key)
        deterministic = options.deterministic if options.deterministic is not None else self.deterministic
        if deterministic:
            seeding.apply_deterministic_mode()
        seeded = seeding.seed_all(seed)
        stack = ExitStack()
        capture = OutputCapture(self.shell)
        capture.start()
        stack.callback(capture.stop)
        stack.enter_context(seeding.SEED_ON_IMPORT.active(seed))
        opened = stack.enter_context(OpenedFiles(exclude=[self.location.directory / STORE_DIRNAME]))
        unseeded = stack.enter_context(detect_unseeded(seed, self.auto_seed))
        nd_warnings = stack.enter_context(seeding.collect_nondeterminism_warnings())
        self.active = ActiveCell(
            key,
            source,
            options,
            seed,
            seeded,
            seeding.rng_state_digests(),
            time.time(),
            bool(deterministic),
            stack,
            capture,
            opened,
            unseeded,
            nd_warnings,
        )

    def end(self, error: BaseException | None) -> dict[str, Any] | None:
        """After the cell: stop the observers, store its record (and checkpoints, environment, log row)
        and return its cell metadata; None when nothing was recorded (a warning says why, never raises)."""
        cell, self.active = self.active, None
        if cell is None:
            return None
        duration = time.time() - cell.started
        cell.capture.add_error(error)
        cell.stack.close()
        try:
            return self._finish(cell, error, duration)
        except Exception as exc:  # recording must never break the user's cell
            warnings.warn(
                f"repro: cell not recorded: {type(exc).__name__}: {exc}", ReproWarning, stacklevel=2
            )
            return None

    def _finish(
        self, cell: ActiveCell, error: BaseException | None, duration: float
    ) -> dict[str, Any] | None:
        rng_after = seeding.rng_state_digests()
        for library, state in seeding.SEED_ON_IMPORT.seeded_states.items():
            cell.rng_before.setdefault(library, state)  # imported (and seeded) inside this cell
            if library not in cell.seeded:
                cell.seeded.append(library)
        for component in cell.unseeded.components:  # e.g. DataLoader workers, seeded from torch's RNG
            if component not in cell.seeded:
                cell.seeded.append(component)
        snapshot, env_digest, _changed = self._env.current()
        store = self.store()
        if store is None:
            return None
        record, variables = build_record(self, cell, error, rng_after, env_digest)
        if "state" in record:  # checkpoints of what changed: written by the writer, named in the record
            skipped = self.checkpoints.after_cell(
                store,
                self.writer(store),
                self.shell.user_ns,
                self.hidden_names(),
                variables,
                self.state.last_stats.hashed_names,
            )
            if skipped:
                record["state"]["not_checkpointed"] = skipped
        # the redaction service at the store door: every string of the record (params, error, paths, ...)
        record = redact_data(record)
        record_bytes = canonical_bytes(record)
        record_digest = digest_bytes(record_bytes)
        writer = self.writer(store)
        for failure in writer.drain_errors():  # not ``error``: that name is the cell's exception
            warnings.warn(
                f"repro: an earlier record could not be written: {failure}", ReproWarning, stacklevel=2
            )
        run_id = self.run_id(store)
        self._write_environment_once(store, snapshot, env_digest)
        writer.submit(lambda st, data: st.objects.put_bytes(data), record_bytes)
        if "state" in record:
            self.state.commit(record_digest)  # the next record's state delta points at this one
        writer.submit(
            lambda st, *row: st.catalog.add_cell_execution(*row),
            run_id,
            cell.key,
            record_digest,
            env_digest,
            cell.seed,
            cell.started,
            duration,
            record["status"],
        )
        self.last_environment = env_digest
        meta = {
            "schema_version": SCHEMA_VERSION,
            "cell_key": cell.key,
            "seed": cell.seed,
            "record": record_digest,
            "environment": env_digest,
            "source": record["source"],
            "outputs": digest_json([o["digest"] for o in record["outputs"]]),
            "n_outputs": len(record["outputs"]),
            "status": record["status"],
            "nondeterministic": record["nondeterministic"],
        }
        self.cell_metadata[cell.key] = meta
        nb_meta = self.notebook_metadata()
        for callback in list(self.on_recorded):
            try:
                callback(cell.key, meta, nb_meta)
            except Exception as exc:
                warnings.warn(f"repro: could not notify the frontend: {exc}", ReproWarning, stacklevel=2)
        # queued after the announcement above went out: record_written never overtakes cell_recorded
        writer.submit(self._announce_written, cell.key, record_digest)
        return meta

    def _announce_written(self, store: Any, cell_key: str, record_digest: str) -> None:
        """Runs on the writer's thread after the record's own write (queued in order behind it)."""
        ok = store.objects.has(record_digest)
        for callback in list(self.on_written):
            try:
                callback(cell_key, record_digest, ok)
            except Exception:  # a closed comm: nobody is waiting any more
                pass

    def hidden_names(self) -> set[str]:
        """Names IPython hides from the user (``In``, ``Out``, ...): never fingerprinted or checkpointed."""
        hidden = getattr(self.shell, "user_ns_hidden", {})
        return set(hidden)


__all__ = ["RecordingSession", "CellOptions", "ReproWarning"]
