"""A recording process for the crash test: records cells that change big arrays forever, and prints
each record digest once ``flush`` reported it durable.  The test kills it with SIGKILL."""

from __future__ import annotations

import os
import sys

from IPython.core.interactiveshell import InteractiveShell

from repro_jupyter import magics


def main(folder: str) -> None:
    os.chdir(folder)
    ip = InteractiveShell.instance()
    session = magics.load(ip).session
    ip.run_line_magic("repro", "on --seed 1")
    ip.run_cell(
        "import numpy as np\nbig = np.zeros(4_000_000)\nparts = [np.ones(100_000) for _ in range(8)]",
        cell_id="setup",
    ).raise_error()  # a failing cell must fail the crash test, not look like a crash
    step = 0
    while True:
        step += 1
        key = f"step{step}"
        ip.run_cell(
            f"big[{step % 1000}] += 1\nparts[{step % 8}][0] = {step}\nlabel = 'step {step}'", cell_id=key
        ).raise_error()
        session.flush()  # durable from here on
        print(session.cell_metadata[key]["record"], flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
