"""The kernel boundary: which kernels run (the Cython ones when built, else their NumPy twins) and one checked call
for all of them (calls.py), what each kernel takes (specs.py) and how a refused call is explained (checks.py), the
BLAS their GEMMs use (blas.py), the NumPy twins (numpy_twins.py), and the kernels themselves (_kernels/, with a
README on their layout). Nothing here knows Tensors or the tape: it works on ndarrays.
"""
from .calls import BACKEND, use_backend  # noqa: F401
