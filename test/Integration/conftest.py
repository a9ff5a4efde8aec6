import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))


@pytest.fixture
def rng():
    # Fresh inputs on every run (SPEC section 5); the seed is printed on
    # failure so a bad case can be replayed with LOOM_TEST_SEED.
    seed = int(os.environ.get("LOOM_TEST_SEED", np.random.SeedSequence().entropy % (2**32)))
    print(f"LOOM_TEST_SEED={seed}")
    return np.random.default_rng(seed)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("loom-artifacts"))
