import numpy as np
import pytest


@pytest.fixture
def rng():
    """A seeded generator, so every test sees the same numbers on every run."""
    return np.random.default_rng(1234)


@pytest.fixture(params=[np.float32, np.float64], ids=["float32", "float64"])
def dtype(request):
    return request.param
