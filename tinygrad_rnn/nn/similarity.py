"""F.normalize and F.cosine_similarity: unit vectors and the cosine between vectors, on the tape."""
from .functional import _tensor


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """input / max(‖input‖ₚ, eps) along dim"""
    x = _tensor("normalize", input)
    return x / x.norm(p, dim=dim, keepdim=True).clamp_min(eps)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Σ (x1 / max(‖x1‖, eps)) · (x2 / max(‖x2‖, eps)) along dim, the two broadcast against each other first"""
    a, b = _tensor("cosine_similarity", x1), _tensor("cosine_similarity", x2)
    a_unit = a / a.norm(2, dim=dim, keepdim=True).clamp_min(eps)
    b_unit = b / b.norm(2, dim=dim, keepdim=True).clamp_min(eps)
    return (a_unit * b_unit).sum(dim)
