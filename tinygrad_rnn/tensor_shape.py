"""Tensor's shape methods: reshape, permute, transpose, split (a mixin of Tensor), and cat/stack."""
import numbers

from . import ops


class ShapeMethods:
    __slots__ = ()

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
