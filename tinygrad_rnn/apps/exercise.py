"""`python -m tinygrad_rnn exercise N FILE`: checks a learner's answer to exercise N of docs/exercises.md.

FILE is imported as a module and what the exercise asks for is compared, number by number, with the library's
own answer on fresh random inputs in float64; the first number that is off is named ("h[1, 3] is 0.1234 but
should be 0.5678"). Exit code 0 when every check passes, 1 when one fails (or FILE raises), 2 for bad input (no
such exercise, FILE missing). docs/solutions/exercise_N.py passes; the tests run the checker on each.
"""
import importlib.util
import os
import traceback

import numpy as np

from .. import Function, gradcheck, manual_seed, nn, no_grad, ops
from ..nn.layers import RNNBase
from ..nn.recurrences import Recurrence
from ..tensor import Tensor
from .adding import BASELINE, SOLVED, batch
from .cli import UsageError
from .files import require_regular_file

HELP = "check your answer to an exercise of docs/exercises.md: pass, or the first wrong number"
F64 = np.float64


class Wrong(Exception):
    """A check that failed: the message names what is wrong, first number first."""


def first_wrong(name, got, want, rtol=1e-9, atol=1e-12):
    """Nothing if got ≈ want elementwise, else Wrong naming the first element (in C order) that is off."""
    got = got.data if isinstance(got, Tensor) else got
    if got is None:
        raise Wrong(f"{name} is None (no gradient reached it) but should be an array of shape {np.shape(want)}")
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        raise Wrong(f"{name} has shape {got.shape} but should have shape {want.shape}")
    bad = ~np.isclose(got, want, rtol=rtol, atol=atol) | (np.isnan(got) != np.isnan(want))
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        where = "[" + ", ".join(map(str, index)) + "]" if index else ""
        raise Wrong(f"{name}{where} is {got[index]:.10g} but should be {want[index]:.10g}")


def _random(rng, *shape, requires_grad=True, scale=1.0):
    return Tensor(rng.standard_normal(shape) * scale, requires_grad=requires_grad, dtype=F64)


def _needs(module, *names):
    missing = [n for n in names if not hasattr(module, n)]
    if missing:
        raise Wrong(f"your file defines no {', '.join(missing)} (see the exercise for what to write)")
    return [getattr(module, n) for n in names]


def _only_primitive_ops(*outputs):
    """Every node behind the outputs is a primitive op (tinygrad_rnn.ops): no fused step, no own Function."""
    seen, stack = set(), [o._ctx for o in outputs if o._ctx is not None]
    while stack:
        ctx = stack.pop()
        if id(ctx) in seen:
            continue
        seen.add(id(ctx))
        module = type(ctx).__module__
        if module != ops.__name__ and not module.startswith(ops.__name__ + "."):
            raise Wrong(f"the tape holds a {type(ctx).__name__} node: write the step from primitive ops "
                        "(@, +, *, sigmoid, tanh, chunk, ...), not with a fused or own Function")
        stack.extend(p._ctx for p in ctx.parents if p._ctx is not None)


# ---- 1: the peephole step ----------------------------------------------------------------------------------
def check_peephole(module):
    (step,) = _needs(module, "peephole_step")
    rng = np.random.default_rng(1)
    B, I, H = 3, 4, 5
    x, h, c = _random(rng, B, I), _random(rng, B, H), _random(rng, B, H)
    w_ih, w_hh, b = _random(rng, 4 * H, I, scale=0.5), _random(rng, 4 * H, H, scale=0.5), _random(rng, 4 * H)
    w_ci, w_cf, w_co = _random(rng, H), _random(rng, H), _random(rng, H)
    inputs = {"x": x, "h": h, "c": c, "weight_ih": w_ih, "weight_hh": w_hh, "bias": b, "w_ci": w_ci, "w_cf": w_cf,
              "w_co": w_co}
    out = step(*inputs.values())
    if not (isinstance(out, tuple) and len(out) == 2 and all(isinstance(o, Tensor) for o in out)):
        raise Wrong("peephole_step should return a tuple (h, c) of two Tensors")
    h_new, c_new = out
    cell = nn.PeepholeLSTMCell(I, H, dtype=F64)
    with no_grad():
        for name, value in (("weight_ih", w_ih), ("weight_hh", w_hh), ("bias_ih", b), ("weight_ci", w_ci),
                            ("weight_cf", w_cf), ("weight_co", w_co)):
            getattr(cell, name).data[...] = value.data
        cell.bias_hh.data[...] = 0.0
    copies = {k: Tensor(v.data, requires_grad=True, dtype=F64) for k, v in inputs.items() if k in ("x", "h", "c")}
    want_h, want_c = cell(copies["x"], (copies["h"], copies["c"]))
    first_wrong("c", c_new, want_c.data)
    first_wrong("h", h_new, want_h.data)
    _only_primitive_ops(h_new, c_new)
    gh, gc = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    ((h_new * Tensor(gh, dtype=F64)).sum() + (c_new * Tensor(gc, dtype=F64)).sum()).backward()
    ((want_h * Tensor(gh, dtype=F64)).sum() + (want_c * Tensor(gc, dtype=F64)).sum()).backward()
    reference = {"x": copies["x"].grad, "h": copies["h"].grad, "c": copies["c"].grad,
                 "weight_ih": cell.weight_ih.grad, "weight_hh": cell.weight_hh.grad, "bias": cell.bias_ih.grad,
                 "w_ci": cell.weight_ci.grad, "w_cf": cell.weight_cf.grad, "w_co": cell.weight_co.grad}
    for name, t in inputs.items():
        first_wrong(f"the gradient of {name}", t.grad, reference[name])
    return "h, c and the gradients of all nine inputs equal nn.PeepholeLSTMCell's"


# ---- 2: tanh's backward --------------------------------------------------------------------------------------
def check_tanh(module):
    (Tanh,) = _needs(module, "Tanh")
    if not (isinstance(Tanh, type) and issubclass(Tanh, Function)):
        raise Wrong("Tanh should be a subclass of tinygrad_rnn.Function")
    rng = np.random.default_rng(2)
    a = rng.standard_normal((4, 5)) * 2
    a[0, :3] = (-30.0, 0.0, 30.0)                        # saturated and zero: the derivative is 0, 1, 0
    x = Tensor(a, requires_grad=True, dtype=F64)
    y = Tanh.apply(x)
    first_wrong("Tanh.apply(x)", y, np.tanh(a))
    g = rng.standard_normal(a.shape)
    y.backward(Tensor(g, dtype=F64))
    first_wrong("the gradient of x", x.grad, g * (1 - np.tanh(a) ** 2))
    if not y.requires_grad or y._ctx is None:
        raise Wrong("Tanh.apply(x) of an x with requires_grad=True should be recorded on the tape")
    small = Tensor(rng.standard_normal((3, 2)), requires_grad=True, dtype=F64)
    try:
        gradcheck(Tanh.apply, (small,))
    except Exception as err:      # GradcheckError, or what the backward raised
        raise Wrong(f"gradcheck fails: {err}") from None
    return "forward and backward equal tanh and 1 − tanh², also at ±30, and gradcheck passes"


# ---- 3: the forget bias on the adding problem ----------------------------------------------------------------
REACH_LENGTH = 30


def reference_reach(forget_bias):
    """‖∂ŷ/∂x_0‖ for the adding problem's first input, ŷ the sum of a fresh LSTM(2, 16)'s last output (seed 0)."""
    manual_seed(0)
    lstm = nn.LSTM(2, 16, forget_bias=forget_bias, dtype=F64)
    x = Tensor(batch(np.random.default_rng(0), REACH_LENGTH, 1)[0], requires_grad=True, dtype=F64)
    out, _ = lstm(x)
    out[-1].sum().backward()
    return float(np.linalg.norm(x.grad[0]))


def check_forget_bias(module):
    broken, fixed, reach, train = _needs(module, "BROKEN_FORGET_BIAS", "FIXED_FORGET_BIAS", "gradient_reach",
                                         "train")
    for name, value in (("BROKEN_FORGET_BIAS", broken), ("FIXED_FORGET_BIAS", fixed)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
            raise Wrong(f"{name} should be a finite number, but is {value!r}")
    for value in (broken, fixed):
        first_wrong(f"gradient_reach({value})", np.float64(reach(value)), reference_reach(value), rtol=1e-6)
    if not reference_reach(broken) < 1e-3 * reference_reach(fixed):
        raise Wrong(f"with BROKEN_FORGET_BIAS = {broken} the gradient still reaches the first step "
                    f"({reference_reach(broken):.3g} against {reference_reach(fixed):.3g} with the fixed one): "
                    "break it harder")
    mse_broken, mse_fixed = float(train(broken)), float(train(fixed))
    if not mse_broken > 0.6 * BASELINE:
        raise Wrong(f"train(BROKEN_FORGET_BIAS) reached a test MSE of {mse_broken:.4f}, below 0.6 × the baseline "
                    f"{BASELINE:.3f}: the LSTM still learns, so the forget bias is not broken")
    if not mse_fixed < SOLVED:
        raise Wrong(f"train(FIXED_FORGET_BIAS) reached a test MSE of {mse_fixed:.4f} but should reach below "
                    f"{SOLVED} (the baseline is {BASELINE:.3f})")
    return (f"forget bias {broken}: gradient reach {reference_reach(broken):.2e}, test MSE {mse_broken:.4f} "
            f"(not learned); {fixed}: {reference_reach(fixed):.2e}, {mse_fixed:.4f} (learned)")


# ---- 4: a minimal gated unit as a Recurrence -------------------------------------------------------------
def reference_mgu(x, h, w_ih, w_hh, b_ih, b_hh):
    """Zhou et al. 2016 in NumPy: f = σ(W_f x + U_f h + b_f), ñ = tanh(W_n x + U_n (f⊙h) + b_n),
    h' = (1 − f)⊙h + f⊙ñ, per step over x (T, B, I) -> outputs (T, B, H)."""
    hidden = h.shape[1]
    outs = []
    for x_t in x:
        zx = x_t @ w_ih.T + b_ih + b_hh
        f = 1 / (1 + np.exp(-(zx[:, :hidden] + h @ w_hh[:hidden].T)))
        n = np.tanh(zx[:, hidden:] + (f * h) @ w_hh[hidden:].T)
        h = (1 - f) * h + f * n
        outs.append(h)
    return np.stack(outs)


def check_mgu(module):
    rec_cls, layer_cls = _needs(module, "MGURecurrence", "MGU")
    if not (isinstance(rec_cls, type) and issubclass(rec_cls, Recurrence)):
        raise Wrong("MGURecurrence should be a subclass of tinygrad_rnn.nn.recurrences.Recurrence")
    if not (isinstance(layer_cls, type) and issubclass(layer_cls, RNNBase)):
        raise Wrong("MGU should be a subclass of tinygrad_rnn.nn.layers.RNNBase")
    if rec_cls.n_gates != 2:
        raise Wrong(f"MGURecurrence.n_gates is {rec_cls.n_gates} but should be 2 (f and ñ: weight_ih is (2H, I))")
    if rec_cls.has_cell_state:
        raise Wrong("MGURecurrence.has_cell_state is True but should be False (the state is h alone)")
    manual_seed(4)
    layer = layer_cls(3, 4, dtype=F64)
    shapes = {name: tuple(p.shape) for name, p in layer.named_parameters()}
    want = {"weight_ih_l0": (8, 3), "weight_hh_l0": (8, 4), "bias_ih_l0": (8,), "bias_hh_l0": (8,)}
    if shapes != want:
        raise Wrong(f"MGU(3, 4) has the parameters {shapes} but should have {want}")
    rng = np.random.default_rng(4)
    x = Tensor(rng.standard_normal((6, 2, 3)), requires_grad=True, dtype=F64)
    out, h_n = layer(x)
    w = {k: v.data for k, v in layer.named_parameters()}
    ref = reference_mgu(x.data, np.zeros((2, 4)), w["weight_ih_l0"], w["weight_hh_l0"], w["bias_ih_l0"],
                        w["bias_hh_l0"])
    first_wrong("output", out, ref)
    first_wrong("h_n", h_n, ref[-1:])
    out, _ = layer(x, lengths=[6, 3])
    first_wrong("output with lengths=[6, 3], sequence 1", out.data[:3, 1], ref[:3, 1])
    first_wrong("output with lengths=[6, 3] after sequence 1's end", out.data[3:, 1], np.zeros((3, 4)))
    del out, h_n
    small = Tensor(rng.standard_normal((3, 1, 3)), requires_grad=True, dtype=F64)
    try:
        gradcheck(lambda x, *weights: layer(x)[0], (small, *layer.parameters()))
    except Exception as err:      # GradcheckError, or what the backward raised
        raise Wrong(f"gradcheck of the layer (input and weights) fails: {err}") from None
    return "the layer equals the MGU equations, with PyTorch-style parameters, lengths= and gradcheck"


# ---- 5: truncated BPTT and its bias -------------------------------------------------------------------------
def reference_truncated(layer, x, k):
    """∂L/∂W_hh with L = Σ of all outputs, by truncated BPTT over windows of k steps (state detached between)."""
    layer.zero_grad()
    state = None
    for s in range(0, x.shape[0], k):
        out, state = layer(x[s:s + k], state)
        out.sum().backward()
        state = tuple(t.detach() for t in state) if isinstance(state, tuple) else state.detach()
    return layer.weight_hh_l0.grad.copy()


def check_truncation(module):
    truncated, bias = _needs(module, "truncated_gradient", "truncation_bias")
    manual_seed(5)
    layer = nn.LSTM(3, 6, dtype=F64)
    x = Tensor(np.random.default_rng(5).standard_normal((24, 2, 3)), dtype=F64)
    full = reference_truncated(layer, x, 24)
    rows = []
    for k in (1, 4, 8, 24):
        want = reference_truncated(layer, x, k)
        first_wrong(f"truncated_gradient(layer, x, {k})", np.asarray(truncated(layer, x, k)), want)
        want_bias = np.linalg.norm(want - full) / np.linalg.norm(full)
        first_wrong(f"truncation_bias(layer, x, {k})", np.float64(bias(layer, x, k)), want_bias, rtol=1e-8,
                    atol=1e-12)
        rows.append(f"k={k}: {want_bias:.3f}")
    return "truncated gradients and their relative bias equal the reference (" + ", ".join(rows) + ")"


EXERCISES = {
    1: ("the peephole LSTM step from primitive ops", check_peephole),
    2: ("tanh's backward, gradchecked", check_tanh),
    3: ("break and fix the forget bias on the adding problem", check_forget_bias),
    4: ("a minimal gated unit as a Recurrence", check_mgu),
    5: ("truncated BPTT and the bias it introduces", check_truncation),
}


def load(path, number):
    """FILE as a module (its own name, so two exercises' files never collide)."""
    spec = importlib.util.spec_from_file_location(f"tinygrad_rnn_exercise_{number}_answer", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _where(err, path):
    """' (your file, line N)' for the innermost frame of the learner's file in err's traceback, else ''."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if os.path.abspath(f.filename) == path]
    if isinstance(err, SyntaxError) and err.lineno:
        return f" ({os.path.basename(path)}, line {err.lineno})"
    return f" ({os.path.basename(path)}, line {frames[-1].lineno})" if frames else ""


def add_arguments(parser):
    parser.add_argument("number", type=int, choices=sorted(EXERCISES), help="the exercise's number")
    parser.add_argument("file", help="your answer: a Python file defining what the exercise asks for")


def run(args):
    path = os.path.abspath(args.file)
    require_regular_file(path, "FILE")
    if not os.path.exists(path):
        raise UsageError(f"FILE: {args.file} does not exist")
    title, check = EXERCISES[args.number]
    try:
        with np.errstate(all="ignore"):
            note = check(load(path, args.number))
    except Wrong as err:
        print(f"exercise {args.number} ({title}): FAIL: {err}")
        return 1
    except Exception as err:  # the learner's code raised: show where, as one line
        print(f"exercise {args.number} ({title}): FAIL: your code raised {type(err).__name__}: {err}"
              f"{_where(err, path)}")
        return 1
    print(f"exercise {args.number} ({title}): pass: {note}")
    return 0

