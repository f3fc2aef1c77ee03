"""torch.set_num_threads / get_num_threads: the threads the BLAS and the kernels' OpenMP loops may use, through
threadpoolctl (imported when first called: it inspects every loaded library, which `import tinygrad_rnn` should
not pay for). The limit holds until changed; `threadpoolctl.threadpool_limits` as a context manager is the scoped
form."""
import os

_limiter = None       # the threadpool_limits object of the last set_num_threads: its limits are in force


def set_num_threads(int_):
    """Limits the BLAS and OpenMP pools to `int_` threads each."""
    global _limiter
    if isinstance(int_, bool) or not isinstance(int_, int):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(int_).__name__}")
    if int_ < 1:
        raise RuntimeError("set_num_threads expects a positive integer")
    from threadpoolctl import threadpool_limits
    _limiter = threadpool_limits(limits=int_)


def get_num_threads():
    """The most threads a pool (BLAS or OpenMP) in this process may use now."""
    from threadpoolctl import threadpool_info
    counts = [pool["num_threads"] for pool in threadpool_info()]
    return max(counts) if counts else (os.cpu_count() or 1)
