"""Server configuration for the galata UI tests (`jupyter lab --config jupyter_server_test_config.py`)."""

import os

from jupyterlab.galata import configure_jupyter_server

# token "", no password, xsrf off, galata helper extension, temporary root_dir,
# port 8888 with port_retries 0 (a stray server on 8888 breaks the run).
configure_jupyter_server(c)  # noqa: F821
c.ServerApp.ip = "127.0.0.1"  # noqa: F821
# REPRO_UI_PORT lets two suites (two developers' specs) run side by side; playwright.config.ts reads it too
c.ServerApp.port = int(os.environ.get("REPRO_UI_PORT", "8888"))  # noqa: F821
# CI and this machine run as root; without this the server exits at once.
c.ServerApp.allow_root = True  # noqa: F821
