"""SIGKILL a recording kernel at random points during checkpoint writes, many times: the store must
stay consistent (fsck finds nothing corrupt or missing) and every record reported durable must be
intact.  REPRO_CRASH_KILLS raises the count for the stress run (default: a short run in the suite)."""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from repro_jupyter.store import open_store
from repro_jupyter.store.maintenance import fsck

KILLS = int(os.environ.get("REPRO_CRASH_KILLS", "6"))
WORKER = Path(__file__).with_name("crash_worker.py")


def test_sigkill_during_checkpoint_writes_loses_nothing_reported_durable(tmp_path):
    rng = random.Random(20261123)
    durable: list[str] = []
    survived = 0
    env = {**os.environ, "REPRO_JUPYTER_SIGNING_KEY": str(tmp_path / "key")}
    for _ in range(KILLS):
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        deadline = time.time() + rng.uniform(1.5, 4.0)  # import + first cells, then somewhere mid-write
        out = b""
        fd = proc.stdout.fileno()
        while time.time() < deadline and proc.poll() is None:
            ready, _, _ = select.select([fd], [], [], 0.02)
            if ready:
                out += os.read(fd, 65536)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        out += proc.stdout.read()
        proc.stdout.close()
        # only complete lines were reported durable (a line cut by the kill was not)
        complete = out.decode().split("\n")[:-1]
        durable += [d for d in complete if d.startswith("sha256:")]
        store = open_store(tmp_path, create=False)
        report = fsck(store)
        assert report.clean, f"after kill {survived + 1}: corrupt {report.corrupt} missing {report.missing}"
        for digest in durable:
            store.objects.get_json(digest)  # present and hash-verified
        store.close()
        survived += 1
    assert survived == KILLS and len(durable) > KILLS
    print(f"kills survived: {survived}, durable records checked: {len(durable)}")
