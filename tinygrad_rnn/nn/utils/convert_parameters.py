"""torch.nn.utils's parameters_to_vector and vector_to_parameters: all parameters as one flat vector and back
(for optimisers written against a flat vector: line searches, CMA-ES, Hessian-vector experiments)."""
from __future__ import annotations

import numpy as np

from ... import inplace
from ...tensor import Tensor, cat
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _tensors(parameters: Any, owner: str) -> Any:
    params = list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{owner}: expected parameters to be Tensors, but got {type(p).__name__} at position {i}")
    return params


def parameters_to_vector(parameters: Any) -> Any:
    """cat(p.reshape(−1) for p in parameters): one 1-D tensor, on the tape (its gradient reaches each p)."""
    params = _tensors(parameters, "parameters_to_vector")
    if not params:
        raise ValueError("parameters_to_vector: expected a non-empty iterable of Tensors (torch.cat(): expected a "
                         "non-empty list of Tensors)")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Any) -> None:
    """Copies consecutive slices of the 1-D vec into the parameters, in place (counted as the engine's in-place
    writes). torch makes each parameter a view of vec; here they are copies, so writing into vec later changes no
    parameter. vec must hold exactly as many elements as the parameters, in their dtype."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    if vec.ndim != 1:
        raise ValueError(f"vector_to_parameters: expected vec to be 1-D, but got {vec.ndim}-D of shape "
                         f"{tuple(vec.shape)}")
    params = _tensors(parameters, "vector_to_parameters")
    total = sum(int(np.prod(p.shape)) for p in params)
    if vec.shape[0] != total:
        raise ValueError(f"vector_to_parameters: vec has {vec.shape[0]} elements, but the parameters hold {total}")
    for i, p in enumerate(params):
        if p.dtype != vec.dtype:
            raise TypeError(f"vector_to_parameters: expected parameters of vec's dtype {vec.dtype}, but got "
                            f"{p.dtype} at position {i}")
    start = 0
    for p in params:
        n = int(np.prod(p.shape))
        with inplace.writing(p):
            p.data[...] = vec.data[start:start + n].reshape(p.shape)
        start += n
