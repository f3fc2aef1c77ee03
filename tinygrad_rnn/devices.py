"""`torch.cuda` and `torch.backends` as a CPU-only engine answers them, so a script's device lines run unchanged:
`device = "cuda" if torch.cuda.is_available() else "cpu"` picks the CPU, `torch.backends.cudnn.deterministic = True`
is accepted (this engine's results are deterministic already: no atomics, fixed reduction orders)."""
import types


def _not_compiled(*args, **kwargs):
    raise AssertionError("Torch not compiled with CUDA enabled (tinygrad_rnn runs on the CPU only)")


cuda = types.SimpleNamespace(
    is_available=lambda: False,
    device_count=lambda: 0,
    is_initialized=lambda: False,
    manual_seed=lambda seed: None,        # as torch's without a GPU: a seed for devices there are none of
    manual_seed_all=lambda seed: None,
    current_device=_not_compiled,
    set_device=_not_compiled,
    synchronize=_not_compiled,
    get_device_name=_not_compiled,
    empty_cache=lambda: None,
)
cuda.__doc__ = "torch.cuda on a machine without CUDA: nothing is available; seeding is accepted and does nothing."

backends = types.SimpleNamespace(
    cudnn=types.SimpleNamespace(enabled=True, deterministic=False, benchmark=False, is_available=lambda: False),
    mps=types.SimpleNamespace(is_available=lambda: False, is_built=lambda: False),
    mkldnn=types.SimpleNamespace(enabled=False, is_available=lambda: False),
)
backends.__doc__ = "torch.backends' switches: accepted, and they change nothing here (there is no cuDNN)."
