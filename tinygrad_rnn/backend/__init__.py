"""The kernel boundary: which kernels run (the Cython ones when built, else their NumPy twins), one checked call per
kernel (calls.py), the BLAS their GEMMs use (blas.py), the NumPy twins (numpy_twins.py), and the kernels themselves
(_kernels/, with a README on their layout). Nothing here knows Tensors or the tape: it works on ndarrays.
"""
from .calls import BACKEND, use_backend  # noqa: F401
