"""Output normalisation and comparison, shared by the magic, the CLI, the pytest plugin and
the server: one implementation, so a digest computed in the kernel and one computed
from a saved notebook agree."""
