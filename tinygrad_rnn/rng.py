"""The engine's one random generator (weight init, dropout, randn): `manual_seed` makes runs bit-identical."""
import numpy as np

generator = np.random.default_rng()


def manual_seed(seed):
    """Reseeds the generator that randn, weight initialisation and dropout draw from."""
    global generator
    generator = np.random.default_rng(seed)
    return generator


class Generator:
    """A generator of its own, as torch.Generator: `Generator().manual_seed(42)` for a repeatable split or shuffle
    that leaves the engine's generator alone (samplers, random_split, randperm take it as `generator=`)."""

    def __init__(self, device="cpu"):
        if str(device) != "cpu":
            raise RuntimeError(f"device {str(device)!r} is not available: this engine runs on the CPU only")
        self._seed = int(np.random.SeedSequence().entropy % 2 ** 63)
        self.generator = np.random.default_rng(self._seed)
        self.device = device

    def manual_seed(self, seed):
        """Reseeds this generator; returns it (so `Generator().manual_seed(0)` is one expression)."""
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise TypeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        self._seed = int(seed)
        self.generator = np.random.default_rng(self._seed)
        return self

    def seed(self):
        """Reseeds from the operating system's entropy; returns the new seed."""
        self.manual_seed(int(np.random.SeedSequence().entropy % 2 ** 63))
        return self._seed

    def initial_seed(self):
        return self._seed
