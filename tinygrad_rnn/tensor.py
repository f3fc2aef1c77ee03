"""Tensor: an ndarray, its gradient, and the tape node that made it; reverse-mode backward over that tape."""
import collections
import numbers

import numpy as np

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_INTS = (np.dtype(np.int64), np.dtype(np.int32))
_DTYPES = _FLOATS + _INTS + (np.dtype(np.bool_),)    # what a tensor may hold: only the floats carry gradients
default_dtype = np.dtype(np.float32)
# PyTorch's names for the dtypes, as its messages spell them
_TORCH_NAMES = {np.dtype(np.float32): "Float", np.dtype(np.float64): "Double", np.dtype(np.int64): "Long",
                np.dtype(np.int32): "Int", np.dtype(np.bool_): "Bool"}
_GRAD_DTYPE_ERROR = "Only Tensors of floating point and complex dtype can require gradients"


def _parse_dtype(dtype, allowed, names):
    """The dtype asked for (float32 when None) if it is one of `allowed`, else TypeError naming `names`."""
    if dtype is None:
        return default_dtype
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt not in allowed:
        raise TypeError(f"Tensor: dtype must be {names}, but got {dtype!r}")
    return dt


def _float_dtype(dtype):
    """The float dtype asked for, or TypeError: gradients are computed in float32 and float64 only."""
    return _parse_dtype(dtype, _FLOATS, "float32 or float64")


def _dtype(dtype):
    """The dtype asked for (float32 when None), or TypeError: float32, float64, int64, int32 and bool exist."""
    return _parse_dtype(dtype, _DTYPES, "float32, float64, int64, int32 or bool")


def _to_array(data, dtype):
    """A fresh ndarray from `data`. Without `dtype`, ndarrays keep a dtype a tensor can hold (in native byte order:
    a big-endian '>f8' file loads as float64), integer ndarrays of other widths become int64; Python data (numbers,
    lists, even of ints or bools) becomes float32, as it always has here (PyTorch would make ints int64)."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is None and isinstance(data, (np.ndarray, np.generic)):
        native = data.dtype.newbyteorder("=")
        if native in _DTYPES:
            return np.array(data, dtype=native, copy=True)
        if native.kind in "iu":
            return np.array(data, dtype=np.int64, copy=True)
    arr = np.asarray(data)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"Tensor: expected numbers (bool, int or float data), but got dtype {arr.dtype}")
    return arr.astype(_dtype(dtype), copy=True)


def _scalar_dtype(dtype, other):
    """The dtype a Python number or a non-float array takes against an integer or bool tensor of `dtype`, by
    PyTorch's promotion: a float makes float32, an int makes an int tensor's own dtype (int64 for a bool one),
    a bool keeps the tensor's dtype."""
    kind = np.asarray(other).dtype.kind
    if kind == "f":
        return default_dtype
    if kind in "iu" and dtype.kind == "b":
        return np.dtype(np.int64)
    return dtype


def _operand(other):
    """The raw data of a comparison's or a logical op's other operand."""
    return other.data if isinstance(other, Tensor) else other


def _result(data):
    """A comparison's or a logical op's result: off the tape (no gradient), as in PyTorch."""
    return Tensor._make(data if type(data) is np.ndarray else np.asarray(data), None)


class _Device:
    """The one device there is: `t.device == "cpu"`, `str(t.device)`, `t.device.type` as PyTorch's."""

    __slots__ = ("type",)

    def __init__(self, type="cpu"):
        if type != "cpu":
            raise RuntimeError(f"device {type!r} is not available: this engine runs on the CPU only")
        self.type = "cpu"

    def __eq__(self, other):
        return other == "cpu" if isinstance(other, str) else isinstance(other, _Device)

    def __hash__(self):
        return hash("cpu")

    def __str__(self):
        return "cpu"

    def __repr__(self):
        return "device(type='cpu')"


device = _Device
CPU = _Device()


def _check_device(dev):
    if not (dev == "cpu" or isinstance(dev, _Device)):
        raise RuntimeError(f"device {str(dev)!r} is not available: this engine runs on the CPU only")


def _dims(dim):
    """A reduction's dim as NumPy takes it: None, an int, or a tuple (PyTorch also takes a list)."""
    return tuple(dim) if isinstance(dim, list) else dim


class Tensor:
    """A float32 (default) or float64 array that can record the ops applied to it for reverse-mode autodiff; or
    an int64, int32 or bool array (labels, indices, masks), which carries no gradient and is never on the tape."""

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_idx", "_version", "_hooks", "__weakref__")
    __array_priority__ = 1000  # so ndarray + Tensor calls Tensor.__radd__

    def __init__(self, data, requires_grad=False, dtype=None):
        self.data = _to_array(data, dtype)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        if self.requires_grad and self.data.dtype.kind != "f":
            raise RuntimeError(_GRAD_DTYPE_ERROR)
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
        """Python numbers and int/bool arrays take this float tensor's dtype (no promotion); float arrays keep
        theirs. Against an integer or bool tensor, PyTorch's promotion: see _scalar_dtype."""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, numbers.Number) or not (isinstance(other, np.ndarray) and other.dtype in _FLOATS):
            dtype = self.data.dtype
            if dtype.kind != "f":
                dtype = _scalar_dtype(dtype, other)
            const = Tensor._make(np.asarray(other, dtype=dtype), None)
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

    @property
    def device(self):
        return CPU

    @property
    def is_cuda(self):
        return False

    def size(self, dim=None):
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self):
        return self.data.size

    def dim(self):
        return self.data.ndim

    def is_floating_point(self):
        return self.data.dtype.kind == "f"

    def is_contiguous(self):
        return self.data.flags.c_contiguous

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self):
        """The slices along dim 0, as PyTorch's iteration (one Unbind node when on the tape)."""
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    __hash__ = object.__hash__   # identity, as PyTorch: defining __eq__ below would otherwise remove it

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(", precision=4)
        dt = self.data.dtype
        extras = "" if dt == default_dtype or dt == np.int64 or dt == np.bool_ else f", dtype={dt}"
        if self._ctx is not None:
            extras += f", grad_fn=<{type(self._ctx).__name__}Backward>"
        elif self.requires_grad:
            extras += ", requires_grad=True"
        return f"tensor({body}{extras})"

    # ---- leaving the tape -------------------------------------------------------------------------------
    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"a Tensor with {self.data.size} elements cannot be converted to Scalar")
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def __float__(self):
        if self.data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return float(self.data.item())

    def __int__(self):
        if self.data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return int(self.data.item())

    def __bool__(self):
        if self.data.size != 1:
            what = "no values" if self.data.size == 0 else "more than one value"
            raise RuntimeError(f"Boolean value of Tensor with {what} is ambiguous")
        return bool(self.data.item())

    def __index__(self):
        if self.data.size != 1 or self.data.dtype.kind not in "biu":
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.data.item())

    def __format__(self, format_spec):
        """A 0-d tensor formats as its number (f"{loss:.3f}"); any other as object.__format__ (its repr for "",
        PyTorch's TypeError for a format spec)."""
        if self.data.ndim == 0:
            return self.data.item().__format__(format_spec)
        return object.__format__(self, format_spec)

    def __array__(self, dtype=None, copy=None):
        """np.asarray(t) is t's data (a copy only if `dtype` or copy=True asks for one)."""
        if dtype is not None and np.dtype(dtype) != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def numpy(self):
        """The data as an ndarray (shared, not copied); refused while the tensor requires grad, as in PyTorch."""
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self.data

    def detach(self):
        """The same data, cut from the tape: gradients stop here (truncated BPTT carries state this way)."""
        return Tensor._make(self.data, None)

    def requires_grad_(self, requires_grad=True):
        if self._ctx is not None and not requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables.")
        if requires_grad and self.data.dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
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
        if isinstance(index, Tensor):
            index = _tensor_index(index)
        elif isinstance(index, tuple) and any(isinstance(i, Tensor) for i in index):
            index = tuple([_tensor_index(i) if isinstance(i, Tensor) else i for i in index])
        return ops.GetItem.apply(self, index=index)

    # ---- comparisons and logic: bool tensors, off the tape --------------------------------------------------
    def __eq__(self, other):
        if other is None:
            return False
        return _result(self.data == _operand(other))

    def __ne__(self, other):
        if other is None:
            return True
        return _result(self.data != _operand(other))

    def __lt__(self, other):
        return _result(self.data < _operand(other))

    def __le__(self, other):
        return _result(self.data <= _operand(other))

    def __gt__(self, other):
        return _result(self.data > _operand(other))

    def __ge__(self, other):
        return _result(self.data >= _operand(other))

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__  # PyTorch's method names for them

    def equal(self, other):
        """True when both have the same shape and elements (torch.equal)."""
        return self.data.shape == other.data.shape and bool((self.data == other.data).all())

    def isnan(self):
        return _result(np.isnan(self.data))

    def isinf(self):
        return _result(np.isinf(self.data))

    def isfinite(self):
        return _result(np.isfinite(self.data))

    def any(self, dim=None, keepdim=False):
        return _result(self.data.any(axis=ops._axes(self.data.ndim, _dims(dim)), keepdims=keepdim))

    def all(self, dim=None, keepdim=False):
        return _result(self.data.all(axis=ops._axes(self.data.ndim, _dims(dim)), keepdims=keepdim))

    def _bitwise(self, name, fn, other):
        """& | ^ on integer and bool tensors (and Python ints and bools); PyTorch's error for floats."""
        data = _operand(other)
        for d in (self.data, np.asarray(data)):
            if d.dtype.kind not in "biu":
                raise NotImplementedError(f'"{name}_cpu" not implemented for \'{_TORCH_NAMES.get(d.dtype, d.dtype)}\'')
        return _result(fn(self.data, data))

    def __and__(self, other):
        return self._bitwise("bitwise_and", np.bitwise_and, other)

    __rand__ = __and__

    def __or__(self, other):
        return self._bitwise("bitwise_or", np.bitwise_or, other)

    __ror__ = __or__

    def __xor__(self, other):
        return self._bitwise("bitwise_xor", np.bitwise_xor, other)

    __rxor__ = __xor__

    def __invert__(self):
        if self.data.dtype.kind not in "biu":
            raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
        return _result(np.invert(self.data))

    def logical_not(self):
        return _result(np.logical_not(self.data))

    def logical_and(self, other):
        return _result(np.logical_and(self.data, _operand(other)))

    def logical_or(self, other):
        return _result(np.logical_or(self.data, _operand(other)))

    def logical_xor(self, other):
        return _result(np.logical_xor(self.data, _operand(other)))

    # ---- elementwise ------------------------------------------------------------------------------------
    def exp(self):
        """eˣ elementwise; ∂x = g·eˣ. Same shape."""
        if self.data.dtype.kind != "f":                  # an integer or bool tensor: float32, as PyTorch
            return ops.Exp.apply(self.float())
        return ops.Exp.apply(self)

    def log(self):
        """ln x elementwise; ∂x = g/x. Same shape."""
        if self.data.dtype.kind != "f":                  # an integer or bool tensor: float32, as PyTorch
            return ops.Log.apply(self.float())
        return ops.Log.apply(self)

    def sigmoid(self):
        """σ(x) = 1/(1 + e⁻ˣ) elementwise (stable at ±1000); ∂x = g·σ(1 − σ). Same shape."""
        if self.data.dtype.kind != "f":                  # an integer or bool tensor: float32, as PyTorch
            return ops.Sigmoid.apply(self.float())
        return ops.Sigmoid.apply(self)

    def tanh(self):
        """tanh x elementwise; ∂x = g·(1 − tanh²x). Same shape."""
        if self.data.dtype.kind != "f":                  # an integer or bool tensor: float32, as PyTorch
            return ops.Tanh.apply(self.float())
        return ops.Tanh.apply(self)

    def relu(self):
        """max(x, 0) elementwise; ∂x = g where x > 0, else 0. Same shape."""
        return ops.ReLU.apply(self)

    def hard_sigmoid(self):
        """clip(0.2x + 0.5, 0, 1) elementwise (Keras/Theano); ∂x = 0.2g strictly inside (0, 1). Same shape."""
        if self.data.dtype.kind != "f":                  # an integer or bool tensor: float32, as PyTorch
            return ops.HardSigmoid.apply(self.float())
        return ops.HardSigmoid.apply(self)

    def clip(self, min=None, max=None):
        """min(max(x, min), max) elementwise (either bound may be None); ∂x = g inside the bounds. Same shape."""
        return ops.Clip.apply(self, min=min, max=max)

    clamp = clip

    def to(self, *args, dtype=None, device=None, copy=False):
        """t.to(dtype), t.to("cpu"), t.to("cpu", dtype), t.to(other) (its dtype): float to float on the tape (the
        gradient is converted back); to an integer or bool dtype, or from one, off the tape (no gradient)."""
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.data.dtype
            elif isinstance(a, (str, _Device)):
                device = a
            else:
                dtype = a
        if device is not None:
            _check_device(device)
        if dtype is None:
            return self
        dt = _dtype(dtype)
        if dt == self.data.dtype:
            return self
        if dt.kind == "f" and self.data.dtype.kind == "f":
            return ops.Cast.apply(self, dtype=dt)
        return Tensor._make(self.data.astype(dt), None)

    def type(self, dtype=None):
        """t.type(dtype) is t.to(dtype); t.type() names the type as PyTorch does ('torch.FloatTensor')."""
        if dtype is None:
            return f"torch.{_TORCH_NAMES[self.data.dtype]}Tensor"
        return self.to(dtype)

    def float(self):
        return self if self.data.dtype == np.float32 else self.to(np.float32)

    def double(self):
        return self if self.data.dtype == np.float64 else self.to(np.float64)

    def long(self):
        return self.to(np.int64)

    def int(self):
        return self.to(np.int32)

    def bool(self):
        return self.to(np.bool_)

    def cpu(self):
        return self

    def clone(self):
        """A copy of the data, on the tape (the gradient passes through), as torch.clone."""
        return ops.Clone.apply(self)

    def contiguous(self):
        """self if its data is C-contiguous, else a contiguous copy on the tape."""
        return self if self.data.flags.c_contiguous else ops.Clone.apply(self)

    # ---- reductions and softmax -------------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False):
        """Σ over `dim` (an int, a tuple, or None for all); the summed dims dropped unless keepdim."""
        return ops.Sum.apply(self, dim=_dims(dim), keepdim=keepdim)

    def mean(self, dim=None, keepdim=False):
        """Σ/n over `dim` (an int, a tuple, or None for all); the reduced dims dropped unless keepdim."""
        if self.data.dtype.kind != "f":
            raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a floating point "
                               f"or complex dtype. Got: {_TORCH_NAMES[self.data.dtype]}")
        return ops.Mean.apply(self, dim=_dims(dim), keepdim=keepdim)

    def max(self, dim=None, keepdim=False):
        """As torch.max: max() is a 0-d tensor (ties share the gradient); max(dim, keepdim) is the named pair
        (values, indices), indices int64 (the first maximum), the gradient going to that index only. amax is the
        values-only form whose gradient ties share."""
        return _max_min(self, "max", dim, keepdim)

    def min(self, dim=None, keepdim=False):
        """As torch.min: min() is a 0-d tensor (ties share the gradient); min(dim, keepdim) is the named pair
        (values, indices), indices int64 (the first minimum), the gradient going to that index only."""
        return _max_min(self, "min", dim, keepdim)

    def amax(self, dim=(), keepdim=False):
        """max over `dim` (every dim by default), values only; the gradient is shared equally among tied maxima,
        as torch.amax."""
        return ops.Max.apply(self, dim=_dims(dim), keepdim=keepdim, name="amax")

    def amin(self, dim=(), keepdim=False):
        """min over `dim`, values only; ties share the gradient, as torch.amin."""
        return ops.Max.apply(self, dim=_dims(dim), keepdim=keepdim, name="amin")

    def argmax(self, dim=None, keepdim=False):
        """The index (int64) of the first maximum along `dim`, or in the flattened tensor when dim is None."""
        return _arg_reduce(self, "argmax", dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        """The index (int64) of the first minimum along `dim`, or in the flattened tensor when dim is None."""
        return _arg_reduce(self, "argmin", dim, keepdim)

    def log_softmax(self, dim=-1):
        """x − log Σ eˣ along `dim`, computed stably (max subtracted first). Same shape."""
        if self.data.dtype.kind != "f":
            return ops.LogSoftmax.apply(self.float(), dim=dim)
        return ops.LogSoftmax.apply(self, dim=dim)

    def softmax(self, dim=-1):
        """eˣ / Σ eˣ along `dim`, computed stably (max subtracted first). Same shape."""
        if self.data.dtype.kind != "f":
            return ops.Softmax.apply(self.float(), dim=dim)
        return ops.Softmax.apply(self, dim=dim)

    # ---- shape ------------------------------------------------------------------------------------------
    def reshape(self, *shape):
        """The same elements in `shape` (one −1 inferred), in C order; ∂ reshaped back."""
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return ops.Reshape.apply(self, shape=tuple(shape))

    view = reshape

    def permute(self, *dims):
        """The axes reordered: output axis k is input axis dims[k]; ∂ by the inverse order."""
        dims = dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        return ops.Permute.apply(self, dims=tuple(dims))

    def transpose(self, dim0, dim1):
        """Axes dim0 and dim1 swapped (a Permute node)."""
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
    """torch.tensor: Tensor(data, requires_grad, dtype) (Python data is float32 unless dtype says otherwise)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def zeros(*shape, dtype=None, requires_grad=False):
    """A tensor of zeros of `shape` (ints or one tuple), float32 unless dtype says otherwise."""
    return Tensor._make(np.zeros(_shape(shape), _dtype(dtype)), None).requires_grad_(requires_grad)


def ones(*shape, dtype=None, requires_grad=False):
    """A tensor of ones of `shape` (ints or one tuple), float32 unless dtype says otherwise."""
    return Tensor._make(np.ones(_shape(shape), _dtype(dtype)), None).requires_grad_(requires_grad)


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


def _tensor_index(t):
    """An integer or bool tensor used as an index is its data (rows, or a mask); a float tensor is refused, as
    PyTorch refuses it (Tensor([True, False]) holds 1.0 and 0.0: read as rows it would pick rows 1 and 0)."""
    if t.data.dtype.kind not in "biu":
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors (this one holds "
                         f"{t.data.dtype}: Python lists become float32 here, so make indices with .long() or "
                         "dtype=tinygrad_rnn.int64, and masks with a comparison or .bool())")
    return t.data


# torch.return_types.max / .min: a named (values, indices) pair
max_return = collections.namedtuple("max", ["values", "indices"])
min_return = collections.namedtuple("min", ["values", "indices"])


def _max_min(t, name, dim, keepdim):
    """torch.max/min: over everything a 0-d tensor (as amax/amin); along `dim` the pair (values, indices), the
    gradient going to the returned index (PyTorch's rule; amax/amin share it among ties)."""
    if dim is None:
        if t.data.size == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify "
                               f"the reduction dim with the 'dim' argument.")
        return ops.Max.apply(t, dim=None, keepdim=False, name="amin" if name == "min" else "max")
    if not isinstance(dim, numbers.Integral):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
    a = t.data
    ops._axes(a.ndim, dim)
    if a.ndim == 0:
        return (max_return if name == "max" else min_return)(t * 1 if t.requires_grad else t,
                                                              _result(np.zeros((), np.int64)))
    if a.shape[dim] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {dim % a.ndim} to have non-zero size.")
    idx = (np.argmax if name == "max" else np.argmin)(a, axis=dim, keepdims=True)
    values = ops.TakeAlong.apply(t, index=idx, dim=dim, keepdim=keepdim)
    indices = _result((idx if keepdim else np.squeeze(idx, axis=dim)).astype(np.int64))
    return (max_return if name == "max" else min_return)(values, indices)


def _arg_reduce(t, name, dim, keepdim):
    """argmax/argmin as PyTorch: int64, off the tape; the first index among ties; its errors for empty input."""
    a = t.data
    if dim is None:
        if a.size == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        out = np.asarray(getattr(np, name)(a))
        return _result((out.reshape((1,) * a.ndim) if keepdim else out).astype(np.int64))
    ops._axes(a.ndim, dim)
    if a.ndim == 0:
        return _result(np.zeros((), np.int64))
    if a.shape[dim] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {dim % a.ndim} to have non-zero size.")
    return _result(getattr(np, name)(a, axis=dim, keepdims=keepdim).astype(np.int64))


def _shape(shape):
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)


def cat(tensors, dim=0):
    """The tensors joined along the existing axis `dim` (shapes equal elsewhere); ∂ split back."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat(): expected a non-empty list of Tensors")
    return ops.Cat.apply(*tensors, dim=dim)


def stack(tensors, dim=0):
    """The tensors (all of one shape) joined along a new axis `dim`; ∂ unstacked."""
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
