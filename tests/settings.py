"""Test settings: the development defaults (DEBUG on) of partnerhub/settings.py.

Production (`DEBUG` off) is the default since issue #17; the suite runs on the demo
defaults (sandbox URLs, derived field key), as `scripts/run` does, and the tests of
production settings load them in a fresh interpreter with `DEBUG=0`. The variable is
set in the environment, so subprocesses the tests start (manage.py, qcluster,
benchmarks) inherit it too.
"""

import os

os.environ.setdefault("DEBUG", "1")

from partnerhub.settings import *  # noqa: F403

# pytest-django runs tests with DEBUG off: encrypted fields then need a real key (the
# fallback derived from SECRET_KEY exists only for the demo). A fixed test-only key.
FIELD_ENCRYPTION_KEY = "GzmlMZr7qWSCJM-2Rmsz9s5zYV7eulWUQ3Z0qc-Oq0c="
