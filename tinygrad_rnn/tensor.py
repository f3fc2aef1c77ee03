"""Tensor: an ndarray, its gradient, and the tape node that made it; reverse-mode backward over that tape."""
import numbers

import numpy as np

from . import grad_mode

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
default_dtype = np.dtype(np.float32)



def _float_dtype(dtype):
    """The float dtype asked for, or TypeError: the engine computes in float32 and float64 only."""
    if dtype is None:
        return default_dtype
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt not in _FLOATS:
        raise TypeError(f"Tensor: dtype must be float32 or float64, but got {dtype!r}")
    return dt


def _to_array(data, dtype):
    """A fresh float ndarray from `data`: float ndarrays keep their dtype (in native byte order: a big-endian '>f8'
    file loads as float64), everything else becomes `dtype`."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is None and isinstance(data, (np.ndarray, np.generic)):
        native = data.dtype.newbyteorder("=")
        if native in _FLOATS:
            return np.array(data, dtype=native, copy=True)
    arr = np.asarray(data)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"Tensor: expected numbers (bool, int or float data), but got dtype {arr.dtype}")
    return arr.astype(_float_dtype(dtype), copy=True)


def _dims(dim):
    """A reduction's dim as NumPy takes it: None, an int, or a tuple (PyTorch also takes a list)."""
    return tuple(dim) if isinstance(dim, list) else dim


class Tensor:
    """A float32 (default) or float64 array that can record the ops applied to it for reverse-mode autodiff."""

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_idx", "_version", "_hooks", "__weakref__")
    __array_priority__ = 1000  # so ndarray + Tensor calls Tensor.__radd__

    def __init__(self, data, requires_grad=False, dtype=None):
        self.data = _to_array(data, dtype)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._ctx = None
        self._idx = 0
        self._version = 0  # in-place writes by the engine (inplace.writing); a leaf's only: outputs have none
        self._hooks = None  # {handle id: fn} of register_hook, owned here so that hooks die with the tensor

    @staticmethod
    def _make(data, ctx, idx=0):
        """Wraps an op's output without copying; `ctx` is the node that made it (output `idx` of it), or None."""
        t = Tensor.__new__(Tensor)
        t.data = data if type(data) is np.ndarray else np.asarray(data)
        t.grad = None
        t.requires_grad = ctx is not None
        t._ctx = ctx
        t._idx = idx
        t._version = 0
        t._hooks = None
        return t

    def _coerce(self, other):
        """Python numbers and int/bool arrays take this tensor's dtype (no promotion); float arrays keep theirs."""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, numbers.Number) or not (isinstance(other, np.ndarray) and other.dtype in _FLOATS):
            const = Tensor._make(np.asarray(other, dtype=self.data.dtype), None)
            const._version = None  # a constant nobody else can reach (see inplace.py): no need to guard it
            return const
        return Tensor._make(other, None)

    # ---- properties -------------------------------------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def is_leaf(self):
        return self._ctx is None

    @property
    def grad_fn(self):
        return self._ctx

    @property
    def T(self):
        return self.permute(*reversed(range(self.ndim)))

    def size(self, dim=None):
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self):
        return self.data.size

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(", precision=4)
        extras = "" if self.data.dtype == default_dtype else f", dtype={self.data.dtype}"
        if self._ctx is not None:
            extras += f", grad_fn=<{type(self._ctx).__name__}Backward>"
        elif self.requires_grad:
            extras += ", requires_grad=True"
        return f"tensor({body}{extras})"

    # ---- leaving the tape -------------------------------------------------------------------------------
    def item(self):
        if self.data.size != 1:
            raise ValueError(f"a Tensor with {self.data.size} elements cannot be converted to Scalar")
        return self.data.item()

    def numpy(self):
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self.data

    def detach(self):
        """The same data, cut from the tape: gradients stop here (truncated BPTT carries state this way)."""
        return Tensor._make(self.data, None)

    def requires_grad_(self, requires_grad=True):
        if self._ctx is not None and not requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables.")
        self.requires_grad = bool(requires_grad)
        return self

    # ---- backward ---------------------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=False):
        """Accumulates d(self)/d(leaf) · gradient into every leaf's .grad, walking the tape in reverse order."""
        if not self.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            gradient = np.ones_like(self.data)
        else:
            gradient = gradient.data if isinstance(gradient, Tensor) else np.asarray(gradient, dtype=self.data.dtype)
            if gradient.shape != self.data.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[0] has a shape of {gradient.shape} and output[0] has a shape "
                    f"of {self.data.shape}."
                )
        autograd.run_backward(self, gradient, retain_graph)

    def register_hook(self, hook):
        """As in PyTorch: hook(grad) runs whenever backward computes the gradient w.r.t. this tensor (an ndarray,
        like `.grad`; for a leaf, before it is accumulated into `.grad`). A non-None return value replaces that
        gradient. Returns a handle whose `.remove()` unregisters the hook; the hook lives as long as the tensor."""
        return autograd.register_hook(self, hook)

    # ---- arithmetic (reflected forms swap the operands) ---------------------------------------------------
    def __add__(self, other):
        return ops.Add.apply(self, self._coerce(other))

    def __radd__(self, other):
        return ops.Add.apply(self._coerce(other), self)

    def __sub__(self, other):
        return ops.Sub.apply(self, self._coerce(other))

    def __rsub__(self, other):
        return ops.Sub.apply(self._coerce(other), self)

    def __mul__(self, other):
        return ops.Mul.apply(self, self._coerce(other))

    def __rmul__(self, other):
        return ops.Mul.apply(self._coerce(other), self)

    def __truediv__(self, other):
        return ops.Div.apply(self, self._coerce(other))

    def __rtruediv__(self, other):
        return ops.Div.apply(self._coerce(other), self)

    def __pow__(self, other):
        return ops.Pow.apply(self, self._coerce(other))

    def __rpow__(self, other):
        return ops.Pow.apply(self._coerce(other), self)

    def __matmul__(self, other):
        return ops.MatMul.apply(self, self._coerce(other))

    def __rmatmul__(self, other):
        return ops.MatMul.apply(self._coerce(other), self)

    def __neg__(self):
        return ops.Neg.apply(self)

    def __getitem__(self, index):
        if isinstance(index, Tensor) or (isinstance(index, tuple) and any(isinstance(i, Tensor) for i in index)):
            _refuse_tensor_index()
        return ops.GetItem.apply(self, index=index)

    # ---- elementwise ------------------------------------------------------------------------------------
    def exp(self):
        return ops.Exp.apply(self)

    def log(self):
        return ops.Log.apply(self)

    def sigmoid(self):
        return ops.Sigmoid.apply(self)

    def tanh(self):
        return ops.Tanh.apply(self)

    def relu(self):
        return ops.ReLU.apply(self)

    def hard_sigmoid(self):
        return ops.HardSigmoid.apply(self)

    def clip(self, min=None, max=None):
        return ops.Clip.apply(self, min=min, max=max)

    clamp = clip

    def float(self):
        return self if self.data.dtype == np.float32 else ops.Cast.apply(self, dtype=np.float32)

    def double(self):
        return self if self.data.dtype == np.float64 else ops.Cast.apply(self, dtype=np.float64)

    # ---- reductions and softmax -------------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False):
        return ops.Sum.apply(self, dim=_dims(dim), keepdim=keepdim)

    def mean(self, dim=None, keepdim=False):
        return ops.Mean.apply(self, dim=_dims(dim), keepdim=keepdim)

    def max(self, dim=None, keepdim=False):
        return ops.Max.apply(self, dim=_dims(dim), keepdim=keepdim)

    def log_softmax(self, dim=-1):
        return ops.LogSoftmax.apply(self, dim=dim)

    def softmax(self, dim=-1):
        return ops.Softmax.apply(self, dim=dim)

    # ---- shape ------------------------------------------------------------------------------------------
    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return ops.Reshape.apply(self, shape=tuple(shape))

    view = reshape

    def permute(self, *dims):
        dims = dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        return ops.Permute.apply(self, dims=tuple(dims))

    def transpose(self, dim0, dim1):
        n = max(self.ndim, 1)                      # a 0-d tensor takes dims 0 and -1, as PyTorch's does
        for d in (dim0, dim1):
            if not -n <= d < n:
                raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
        if self.ndim == 0:
            return self
        dims = list(range(self.ndim))
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
        return ops.Permute.apply(self, dims=tuple(dims))

    def split(self, split_size_or_sections, dim=0):
        """Pieces of `split_size` along `dim` (the last may be smaller), or of the listed sizes."""
        n = self.data.shape[dim]
        if isinstance(split_size_or_sections, numbers.Integral):
            if split_size_or_sections <= 0:
                raise ValueError(f"split: split_size must be positive, but got {split_size_or_sections}")
            sizes = [min(split_size_or_sections, n - s) for s in range(0, n, split_size_or_sections)]
        else:
            sizes = list(split_size_or_sections)
            if sum(sizes) != n:
                raise ValueError(f"split: sizes {sizes} must sum to {n} (the size of dim {dim}), but sum to {sum(sizes)}")
        return ops.Split.apply(self, sizes=sizes, dim=dim)

    def chunk(self, chunks, dim=0):
        """`chunks` pieces of equal size along `dim` (the last may be smaller), as torch.chunk."""
        if chunks <= 0:
            raise ValueError(f"chunk: chunks must be positive, but got {chunks}")
        n = self.data.shape[dim]
        return self.split(max(1, -(-n // chunks)), dim)

    def unbind(self, dim=0):
        """The slices along `dim` as a tuple of tensors: one tape node however many there are."""
        return ops.Unbind.apply(self, dim=dim)


def tensor(data, requires_grad=False, dtype=None):
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def zeros(*shape, dtype=None, requires_grad=False):
    return Tensor._make(np.zeros(_shape(shape), _float_dtype(dtype)), None).requires_grad_(requires_grad)


def ones(*shape, dtype=None, requires_grad=False):
    return Tensor._make(np.ones(_shape(shape), _float_dtype(dtype)), None).requires_grad_(requires_grad)


def engine_constant(data):
    """A tensor of the engine's own (a layer's zero state, a Python number made an operand): out of the user's
    reach, so the in-place guards (inplace.py) need not protect it."""
    const = Tensor._make(data, None)
    const._version = None
    return const


def randn(*shape, dtype=None, requires_grad=False):
    """Standard normal samples from the engine's generator (seeded by `manual_seed`)."""
    data = rng.generator.standard_normal(_shape(shape)).astype(_float_dtype(dtype))
    return Tensor._make(data, None).requires_grad_(requires_grad)


def _refuse_tensor_index():
    """Refuses a Tensor used as an index, as PyTorch refuses float tensors: the engine's tensors hold floats, so a
    bool mask made into a Tensor (1.0/0.0) would select rows 1 and 0 instead of masking."""
    raise IndexError("tensors used as indices must be long, int, byte or bool tensors (this engine's tensors hold "
                     "floats: index with an int or bool ndarray or list instead, e.g. x[t.numpy().astype(bool)] for "
                     "a mask, x[t.numpy().astype(np.intp)] for rows)")


def _shape(shape):
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)


def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat(): expected a non-empty list of Tensors")
    return ops.Cat.apply(*tensors, dim=dim)


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    return ops.Stack.apply(*tensors, dim=dim)


def where(condition, input, other):
    """condition ? input : other, elementwise with broadcasting; no gradient flows to the condition."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):  # two constants: a float array's dtype,
        floats = [v.dtype for v in (input, other) if isinstance(v, np.ndarray) and v.dtype in _FLOATS]
        input = Tensor(input, dtype=floats[0] if floats else None)      # else the default (torch: float32)
    input = input if isinstance(input, Tensor) else other._coerce(input)
    return ops.Where.apply(input, input._coerce(other), condition=cond.astype(bool, copy=False))


from . import autograd, ops, rng  # noqa: E402  (ops need Tensor defined first)
