"""ECIS Orchestrator: an API that starts multi-step orchestrations and a worker that runs them."""

from importlib.metadata import PackageNotFoundError, version

SERVICE_NAME = "ecis-orchestrator"

try:
    __version__ = version(SERVICE_NAME)
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
