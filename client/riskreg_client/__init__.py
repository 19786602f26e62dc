"""riskreg-client: the `riskreg` command and Python API for CI jobs, notebooks and auditors.

A separate distribution from the server: it imports no Django and nothing from the server's
packages. ``riskreg_client.verify`` needs the ``verify`` extra (pyHanko).
"""

__version__ = "0.1.0"

# After __version__, which the transport's User-Agent reads.
from riskreg_client.client import Client, Submission

__all__ = ["Client", "Submission", "__version__"]
