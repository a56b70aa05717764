"""Test-suite settings shared by every test module.

Under CI (``CI`` set, as ``.ci/run`` is run) hypothesis draws its examples
deterministically, so a CI run is reproducible; locally it explores new random
examples on every run and remembers failures in ``.hypothesis/``.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")
