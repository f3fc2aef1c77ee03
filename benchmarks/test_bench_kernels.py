"""Each fused Cython kernel against its NumPy twin (the op chain it replaces), one time step of shape S."""
import pytest

from tinygrad_rnn.apps import bench_candidates as bc


@pytest.mark.parametrize("dtype", bc.DTYPES)
@pytest.mark.parametrize("impl", bc.KERNEL_IMPLS)
@pytest.mark.parametrize("kernel", bc.KERNELS)
def test_kernel(benchmark, rng, make_or_skip, kernel, impl, dtype):
    run = make_or_skip(bc.make_kernel, kernel, impl, dtype, rng)
    benchmark.group = f"kernel {kernel} {dtype}"
    benchmark.extra_info.update(kind="kernel", kernel=kernel, impl=impl, dtype=dtype)
    benchmark(run)
