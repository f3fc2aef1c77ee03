"""The engine's one random generator (weight init, dropout, randn): `manual_seed` makes runs bit-identical."""
from __future__ import annotations

import numpy as np

generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseeds the generator that randn, weight initialisation and dropout draw from."""
    global generator
    generator = np.random.default_rng(seed)
    return generator
