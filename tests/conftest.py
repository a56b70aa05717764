"""Test-suite settings shared by every test module.

Under CI (``CI`` set, as ``.ci/run`` is run) hypothesis draws its examples
deterministically, so a CI run is reproducible; locally it explores new random
examples on every run and remembers failures in ``.hypothesis/``.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")


# The long sweeps and oracle comparisons run under `make test-slow` (marker `slow`); `make test`
# keeps the smoke cases named here (None: the whole test is slow).
SLOW: dict[str, set[str] | None] = {
    "test_ppca_randomised_sweep": {"2", "3", "5"},
    "test_randomised_sweep_against_the_optimiser": {"2", "14", "16"},
    "test_fit_is_the_observed_data_maximum": {"px-em-mcar-0.05", "px-em-blocks-0.0",
                                              "em-blocks-0.0"},
    "test_ppca_reaches_the_maximum_on_bundled_real_data": {"wine-px-em", "wine-em"},
    "test_small_samples_reach_the_maximum_from_a_second_start": None,
    "test_ppca_from_a_random_start_never_claims_a_saddle": None,
}


@pytest.hookimpl(tryfirst=True)  # before `-m "not slow"` deselects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        name = getattr(item, "originalname", item.name)
        if name in SLOW:
            smoke = SLOW[name]
            callspec = getattr(item, "callspec", None)
            if smoke is None or callspec is None or callspec.id not in smoke:
                item.add_marker(pytest.mark.slow)
