"""The Jupyter Server extension: authenticated REST under ``/repro-jupyter/``."""
