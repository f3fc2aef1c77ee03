"""Each fused Cython kernel against its NumPy twin (the op chain it replaces), one time step of shape S, and the
sequence kernels' recurrent products against BLAS; each call timed after the other implementation's call and one
untimed call of its own (conftest.py, side_by_side)."""
import numpy as np
import pytest

from tinygrad_rnn.apps import bench_candidates as bc


@pytest.mark.parametrize("dtype", bc.DTYPES)
@pytest.mark.parametrize("impl", bc.KERNEL_IMPLS)
@pytest.mark.parametrize("kernel", bc.KERNELS)
def test_kernel(benchmark, group, own_run, side_by_side, request, kernel, impl, dtype, threads):
    def make(name):
        return bc.make_kernel(kernel, name, dtype, np.random.default_rng(bc.SEED))
    runs = group(("kernel", kernel, dtype, threads), bc.KERNEL_IMPLS, make)
    run = own_run(runs, impl, make)
    benchmark.group = f"kernel {kernel} {dtype} {threads} thread(s)"
    benchmark.extra_info.update(kind="kernel", kernel=kernel, impl=impl, dtype=dtype, threads=threads)
    side_by_side(run, [r for name, r in runs.items() if name != impl],
                 rounds=10 * request.config.getoption("--bench-rounds"))


@pytest.mark.parametrize("dtype", bc.DTYPES)
@pytest.mark.parametrize("impl", bc.PRODUCT_IMPLS)
@pytest.mark.parametrize("product", list(bc.PRODUCTS))
def test_recurrent_product(benchmark, group, own_run, side_by_side, product, impl, dtype, threads):
    """A step's recurrent product (bc.PRODUCT_REPEAT of them per call): the sequence kernels' micro-kernel against
    NumPy's BLAS; extra_info["flops"] gives the GFLOP/s."""
    def make(name):
        return bc.make_product(product, name, dtype, np.random.default_rng(bc.SEED))
    runs = group(("product", product, dtype, threads), bc.PRODUCT_IMPLS, make)
    run = own_run(runs, impl, make)
    benchmark.group = f"product {product} {dtype} {threads} thread(s)"
    benchmark.extra_info.update(kind="product", product=product, impl=impl, dtype=dtype, threads=threads,
                                flops=bc.product_flops(product) * bc.PRODUCT_REPEAT)
    side_by_side(run, [r for name, r in runs.items() if name != impl])
