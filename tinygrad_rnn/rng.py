"""The engine's one random generator (weight init, dropout, randn): `manual_seed` makes runs bit-identical."""
from __future__ import annotations

import os
from typing import Any

import numpy as np


def _fresh_seed() -> int:
    """63 bits of the operating system's entropy (torch's seeds are non-negative int64s)."""
    return int.from_bytes(os.urandom(8), "little") >> 1


_initial = _fresh_seed()
generator = np.random.default_rng(_initial)


def manual_seed(seed: int) -> np.random.Generator:
    """Reseeds the generator that randn, weight initialisation and dropout draw from."""
    global generator, _initial
    generator = np.random.default_rng(seed)
    _initial = seed
    return generator


def seed() -> int:
    """Reseeds the engine's generator from the operating system's entropy; returns the seed (torch.seed)."""
    new = _fresh_seed()
    manual_seed(new)
    return new


def initial_seed() -> int:
    """The seed the engine's generator was last seeded with (torch.initial_seed)."""
    return _initial


def get_rng_state() -> dict[str, Any]:
    """The engine's generator state, for set_rng_state (a dict here: torch's is a uint8 tensor)."""
    return dict(generator.bit_generator.state)


def set_rng_state(new_state: dict[str, Any]) -> None:
    """Puts back a state from get_rng_state: the draws after it repeat."""
    if not isinstance(new_state, dict) or "state" not in new_state:
        raise TypeError(f"set_rng_state: expected a state from get_rng_state(), but got {type(new_state).__name__}")
    generator.bit_generator.state = new_state


class Generator:
    """A generator of its own, as torch.Generator: `Generator().manual_seed(42)` for a repeatable split or shuffle
    that leaves the engine's generator alone (samplers, random_split, randperm take it as `generator=`)."""

    def __init__(self, device: Any = "cpu") -> None:
        if str(device) != "cpu":
            raise RuntimeError(f"device {str(device)!r} is not available: this engine runs on the CPU only")
        self._seed = _fresh_seed()
        self.generator = np.random.default_rng(self._seed)
        self.device = device

    def manual_seed(self, seed: int) -> Generator:
        """Reseeds this generator; returns it (so `Generator().manual_seed(0)` is one expression)."""
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise TypeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        self._seed = int(seed)
        self.generator = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        """Reseeds from the operating system's entropy; returns the new seed."""
        self.manual_seed(_fresh_seed())
        return self._seed

    def initial_seed(self) -> int:
        return self._seed
