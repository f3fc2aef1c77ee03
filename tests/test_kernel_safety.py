"""Issue 11, item 3: the kernel boundary holes the NumPy twins did not have. The Cython entry points now refuse

- byte-swapped arrays ('>f4' has float32's type number, so it passed the dtype check and was read as garbage):
  TypeError naming the argument; the boundary (backend/calls.py) copies them to native order first, so its callers get the right answer;
- an output that shares memory with an input or with another output (`rnn_step_forward(..., h=h_prev)`,
  `lstm_step_backward(..., dz=gates)`, an output inside w_hh, `transposed(w, out=w)`): ValueError naming the output
  and what it overlaps, by the byte-range test of np.may_share_memory; adjacent views of one buffer stay fine;
- a GEMM whose sizes the BLAS's integer cannot hold (scipy's BLAS and a 32-bit CBLAS take a C int): ValueError
  before anything is written. Sizes and indices are Py_ssize_t; the ≥ 2³¹ cases are checked through
  `_blas.check_gemm_sizes`, and every kernel's use of the check through a lowered `_blas.int_max`, so nothing here
  allocates more than a few kilobytes.

The byte-swapped case for every kernel and argument is also in test_kernel_boundary.py's table ("byteswapped").
"""
import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn.backend import blas as _blas_choice, calls as _backend
from tinygrad_rnn.nn.functional import linear

try:
    from tinygrad_rnn.backend._kernels import _blas, gates as cy_gates, linear as cy_linear, steps as cy_steps
except ImportError:                              # the NumPy backend only: the direct-call tests skip
    _blas = None

needs_kernels = pytest.mark.skipif(_blas is None, reason="Cython kernels not built")
B, H, I, O = 2, 3, 4, 5

# The step kernels with outputs, as called directly: inputs (name, shape), positional extras (act), outputs.
STEPS = {
    "lstm_step_forward": ([("xp", "B 4H"), ("h_prev", "B H"), ("c_prev", "B H"), ("w_hh", "4H H")], ["sigmoid"],
                          [("gates", "B 4H"), ("c", "B H"), ("h", "B H")]),
    "lstm_step_backward": ([("gates", "B 4H"), ("c_prev", "B H"), ("c", "B H"), ("w_hh", "4H H"), ("dh", "B H"),
                            ("dc", "B H")], ["sigmoid"], [("dz", "B 4H"), ("dc_prev", "B H"), ("dh_prev", "B H")]),
    "peephole_step_forward": ([("xp", "B 4H"), ("h_prev", "B H"), ("c_prev", "B H"), ("w_hh", "4H H"),
                               ("w_ci", "H"), ("w_cf", "H"), ("w_co", "H")], ["sigmoid"],
                              [("gates", "B 4H"), ("c", "B H"), ("h", "B H")]),
    "peephole_step_backward": ([("gates", "B 4H"), ("c_prev", "B H"), ("c", "B H"), ("w_hh", "4H H"), ("w_ci", "H"),
                                ("w_cf", "H"), ("w_co", "H"), ("dh", "B H"), ("dc", "B H")], ["sigmoid"],
                               [("dz", "B 4H"), ("dc_prev", "B H"), ("dh_prev", "B H"), ("dw_ci", "H"),
                                ("dw_cf", "H"), ("dw_co", "H")]),
    "gru_step_forward": ([("xp", "B 3H"), ("h_prev", "B H"), ("w_hh", "3H H"), ("b_hh", "3H")], ["sigmoid"],
                         [("hp", "B 3H"), ("gates", "B 3H"), ("h", "B H")]),
    "gru_step_backward": ([("gates", "B 3H"), ("hp", "B 3H"), ("h_prev", "B H"), ("w_hh", "3H H"), ("dh", "B H")],
                          ["sigmoid"], [("dxp", "B 3H"), ("dhp", "B 3H"), ("dh_prev", "B H")]),
    "rnn_step_forward": ([("xp", "B H"), ("h_prev", "B H"), ("w_hh", "H H")], ["tanh"], [("h", "B H")]),
    "rnn_step_backward": ([("h", "B H"), ("w_hh", "H H"), ("dh", "B H")], ["tanh"], [("dz", "B H"), ("dh_prev", "B H")]),
    "transposed": ([("w", "H 4H")], [], [("out", "4H H")]),
}
# The gate kernels (gates.pyx), which take every output positionally after the act name (None: no act).
GATES = {
    "lstm_gates_forward": ([("z", "B 4H"), ("c_prev", "B H")], ["sigmoid"],
                           [("gates", "B 4H"), ("c", "B H"), ("h", "B H")]),
    "lstm_gates_backward": ([("gates", "B 4H"), ("c_prev", "B H"), ("c", "B H"), ("dh", "B H"), ("dc", "B H")],
                            ["sigmoid"], [("dz", "B 4H"), ("dc_prev", "B H")]),
    "peephole_gates_forward": ([("z", "B 4H"), ("c_prev", "B H"), ("w_ci", "H"), ("w_cf", "H"), ("w_co", "H")],
                               ["sigmoid"], [("gates", "B 4H"), ("c", "B H"), ("h", "B H")]),
    "peephole_gates_backward": ([("gates", "B 4H"), ("c_prev", "B H"), ("c", "B H"), ("w_ci", "H"), ("w_cf", "H"),
                                 ("w_co", "H"), ("dh", "B H"), ("dc", "B H")], ["sigmoid"],
                                [("dz", "B 4H"), ("dc_prev", "B H"), ("dw_ci", "H"), ("dw_cf", "H"), ("dw_co", "H")]),
    "gru_gates_forward": ([("xp", "B 3H"), ("hp", "B 3H"), ("h_prev", "B H")], ["sigmoid"],
                          [("gates", "B 3H"), ("h", "B H")]),
    "gru_gates_backward": ([("gates", "B 3H"), ("hp", "B 3H"), ("h_prev", "B H"), ("dh", "B H")], ["sigmoid"],
                           [("dxp", "B 3H"), ("dhp", "B 3H"), ("dh_prev", "B H")]),
    "gru_cho_reset_forward": ([("xp", "B 3H"), ("hp_rz", "B 2H"), ("h_prev", "B H")], ["sigmoid"],
                              [("gates_rz", "B 2H"), ("rh", "B H")]),
    "gru_cho_update_forward": ([("xp", "B 3H"), ("hn", "B H"), ("gates_rz", "B 2H"), ("h_prev", "B H")], [],
                               [("n", "B H"), ("h", "B H")]),
    "gru_cho_update_backward": ([("gates_rz", "B 2H"), ("n", "B H"), ("h_prev", "B H"), ("dh", "B H")], ["sigmoid"],
                                [("dz_pre", "B H"), ("dn_pre", "B H"), ("dh_prev", "B H")]),
    "gru_cho_reset_backward": ([("gates_rz", "B 2H"), ("h_prev", "B H"), ("d_rh", "B H")], ["sigmoid"],
                               [("dr_pre", "B H"), ("dh_prev", "B H")]),
}
LINEAR = {
    "linear_act_forward": ([("x", "B I"), ("weight", "O I"), ("bias", "O")], ["tanh"], [("y", "B O")]),
    "linear_act_backward": ([("x", "B I"), ("weight", "O I"), ("y", "B O"), ("dy", "B O")], ["tanh"],
                            [("dx", "B I"), ("dweight", "O I"), ("dbias", "O")]),
}
DIMS = {"B": B, "H": H, "I": I, "O": O}


def shape(spec, dims=DIMS):
    return tuple(int(p[:-1] or 1) * dims[p[-1]] for p in spec.split())


def inputs(table, name, dtype=np.float64, seed=0, dims=DIMS):
    rng = np.random.default_rng(seed)
    return {n: rng.uniform(0.05, 0.95, shape(s, dims)).astype(dtype) for n, s in table[name][0]}


def call(table, name, args, outs):
    """The Cython entry point with `args` (name -> array) and outputs `outs` (name -> array or None)."""
    module = cy_steps if table is STEPS else cy_gates if table is GATES else cy_linear
    ins, extras, out_spec = table[name]
    positional = [args[n] for n, _ in ins] + extras
    if table is STEPS and name != "transposed":
        return getattr(module, name)(*positional, **{n: outs.get(n) for n, _ in out_spec})
    result = [outs[n] if outs.get(n) is not None else np.empty(shape(s), args[ins[0][0]].dtype) for n, s in out_spec]
    got = getattr(module, name)(*positional, *result) if name != "transposed" else module.transposed(
        *positional, out=result[0])
    return got if name == "transposed" else tuple(result)


def twin(table, name, args):
    """The NumPy twin's outputs for the same values."""
    ins, extras, out_spec = table[name]
    fn = getattr(_backend.numpy_twins if table is not LINEAR else _backend.numpy_twins, name)
    if table is STEPS:
        got = fn(*[args[n] for n, _ in ins], *extras)
        return got if isinstance(got, tuple) else (got,)
    outs = tuple(np.empty(shape(s), args[ins[0][0]].dtype) for _, s in out_spec)
    fn(*[args[n] for n, _ in ins], *extras, *outs)
    return outs


def all_kernels():
    return [(t, n) for t in (STEPS, GATES, LINEAR) for n in t]


def kernel_id(case):
    return case[1]


# ---- byte-swapped arrays ----------------------------------------------------------------------------------------

def swapped(a):
    """The same values stored in the other byte order ('>f8' on a little-endian machine)."""
    return a.astype(a.dtype.newbyteorder("S"))


@needs_kernels
@pytest.mark.parametrize("case", all_kernels(), ids=kernel_id)
def test_kernels_refuse_byte_swapped_arrays(case, dtype):
    table, name = case
    args = inputs(table, name, dtype)
    for arg in args:
        bad = dict(args, **{arg: swapped(args[arg])})
        with pytest.raises((TypeError, ValueError)) as info:
            call(table, name, bad, {})
        assert str(info.value).startswith(f"{arg}: expected dtype") and "byte" in str(info.value), str(info.value)
    for out_name, spec in table[name][2]:        # a byte-swapped output: refused as well
        out = swapped(np.zeros(shape(spec), dtype))
        with pytest.raises((TypeError, ValueError)) as info:
            call(table, name, args, {out_name: out})
        assert str(info.value).startswith(f"{out_name}:"), str(info.value)
        assert not out.any(), "a refused output was written"


BACKEND_CALLS = {   # _backend wrapper: (table, kernel) the values come from, and how the wrapper takes them
    "linear_act_forward": lambda a: _backend.linear_act_forward(a["x"], a["weight"], a["bias"], "tanh"),
    "linear_act_backward": lambda a: _backend.linear_act_backward(a["x"], a["weight"], a["y"], a["dy"], "tanh"),
    "lstm_step_forward": lambda a: _backend.lstm_step_forward(a["xp"], a["h_prev"], a["c_prev"], a["w_hh"]),
    "lstm_step_backward": lambda a: _backend.lstm_step_backward(a["gates"], a["c_prev"], a["c"], a["w_hh"], a["dh"],
                                                                a["dc"]),
    "peephole_step_forward": lambda a: _backend.peephole_step_forward(a["xp"], a["h_prev"], a["c_prev"], a["w_hh"],
                                                                      a["w_ci"], a["w_cf"], a["w_co"]),
    "gru_step_forward": lambda a: _backend.gru_step_forward(a["xp"], a["h_prev"], a["w_hh"], a["b_hh"]),
    "gru_step_backward": lambda a: _backend.gru_step_backward(a["gates"], a["hp"], a["h_prev"], a["w_hh"], a["dh"]),
    "rnn_step_forward": lambda a: _backend.rnn_step_forward(a["xp"], a["h_prev"], a["w_hh"]),
    "rnn_step_backward": lambda a: _backend.rnn_step_backward(a["h"], a["w_hh"], a["dh"]),
    "transposed": lambda a: _backend.transposed(a["w"]),
    "lstm_gates_forward": lambda a: _backend.call("lstm_gates_forward", a["z"], a["c_prev"]),
    "gru_cho_update_forward": lambda a: _backend.gru_cho_update_forward(a["xp"], a["hn"], a["gates_rz"], a["h_prev"]),
}


@pytest.mark.parametrize("name", list(BACKEND_CALLS))
def test_backend_copies_byte_swapped_inputs_to_native_order(name, dtype):
    """Through _backend (either backend), byte-swapped inputs give the answer of the native arrays, in native order."""
    table = next(t for t in (STEPS, GATES, LINEAR) if name in t)
    args = inputs(table, name, dtype)
    fn = BACKEND_CALLS[name]
    want = fn(args)
    want = want if isinstance(want, tuple) else (want,)
    for arg in list(args) + ["all"]:
        bad = {n: swapped(a) if arg in (n, "all") else a for n, a in args.items()}
        got = fn(bad)
        got = got if isinstance(got, tuple) else (got,)
        for g, w in zip(got, want):
            if w is None:
                continue
            assert g.dtype == np.dtype(dtype) and g.dtype.isnative, (name, arg, g.dtype)
            np.testing.assert_array_equal(g, w, err_msg=f"{name}, {arg} byte-swapped")


def test_tensor_ops_on_byte_swapped_data_are_right():
    """The user-level op: Tensors whose arrays are big-endian (as np.load of a '>f8' file gives) through the fused
    linear kernel, forward and backward, equal the native computation (it gave inf and 1e273 before)."""
    rng = np.random.default_rng(5)
    a, w, b = rng.standard_normal((3, 4)), rng.standard_normal((5, 4)), rng.standard_normal(5)
    results = []
    for convert in (lambda v: v, swapped):
        x, W, bias = (tg.Tensor(v, requires_grad=True) for v in (a, w, b))
        for t, v in zip((x, W, bias), (a, w, b)):
            t.data = convert(v)
        y = linear(x, W, bias, act="tanh")
        (y * y).sum().backward()
        results.append([y.data, x.grad, W.grad, bias.grad])
    np.testing.assert_allclose(results[0][0], np.tanh(a @ w.T + b), rtol=1e-12)
    for got, want in zip(results[1], results[0]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


# ---- outputs that overlap an input or another output ------------------------------------------------------------

def overlapping(a, b):
    """(a', b') holding a's and b's values, one a view into the other's memory (the smaller at the start)."""
    if a.size >= b.size:
        view = a.reshape(-1)[:b.size].reshape(b.shape)
        view[...] = b
        return a, view
    view = b.reshape(-1)[:a.size].reshape(a.shape)
    view[...] = a
    return view, b


def overlap_cases(table, name):
    """(output, other array) pairs: every output against every input and every other output."""
    ins, _, outs = table[name]
    out_names = [n for n, _ in outs]
    return [(o, a) for o in out_names for a in [n for n, _ in ins] + [n for n in out_names if n != o]]


@needs_kernels
@pytest.mark.parametrize("case", all_kernels(), ids=kernel_id)
def test_kernels_refuse_outputs_that_overlap(case, dtype):
    """Every output of every kernel, placed over every input and every other output, is refused, naming both; the
    inputs are left as they were. (rnn_step_forward(..., h=h_prev) was off by 1.9; dz=gates, an output inside
    w_hh and transposed(w, out=w) were accepted.)"""
    table, name = case
    out_specs = dict(table[name][2])
    for out_name, other in overlap_cases(table, name):
        args = inputs(table, name, dtype)
        outs = {out_name: np.zeros(shape(out_specs[out_name]), dtype)}
        if other in args:
            args[other], outs[out_name] = overlapping(args[other], outs[out_name])
        else:
            outs[other] = np.zeros(shape(out_specs[other]), dtype)
            outs[other], outs[out_name] = overlapping(outs[other], outs[out_name])
        before = {n: a.copy() for n, a in args.items()}
        with pytest.raises(ValueError) as info:
            call(table, name, args, outs)
        message = str(info.value)
        first, second = (out_name, other) if message.startswith(f"{out_name}:") else (other, out_name)
        assert message.startswith(f"{first}: expected an array that shares no memory") and \
            message.endswith(f"overlaps {second}"), (name, out_name, other, message)
        for n, a in args.items():
            np.testing.assert_array_equal(a, before[n], err_msg=f"{name}: refused, but {n} was written")


@needs_kernels
def test_the_reported_overlaps():
    rng = np.random.default_rng(2)
    xp, h_prev, w = rng.standard_normal((2, 3)), rng.standard_normal((2, 3)), rng.standard_normal((3, 3))
    want = np.tanh(xp + h_prev @ w.T)
    with pytest.raises(ValueError, match="^h: .* overlaps h_prev$"):
        cy_steps.rnn_step_forward(xp, h_prev, w, "tanh", h=h_prev)
    with pytest.raises(ValueError, match="^h: .* overlaps h_prev$"):
        _backend.rnn_step_forward(xp, h_prev, w, "tanh", h=h_prev)
    np.testing.assert_allclose(_backend.rnn_step_forward(xp, h_prev, w, "tanh", h=np.empty((2, 3))), want,
                               rtol=1e-12)
    a = inputs(STEPS, "lstm_step_backward")
    with pytest.raises(ValueError, match="^dz: .* overlaps gates$"):
        cy_steps.lstm_step_backward(a["gates"], a["c_prev"], a["c"], a["w_hh"], a["dh"], a["dc"], "sigmoid",
                                    dz=a["gates"])
    with pytest.raises(ValueError, match="^dz: .* overlaps gates$"):
        _backend.lstm_step_backward(a["gates"], a["c_prev"], a["c"], a["w_hh"], a["dh"], a["dc"], dz=a["gates"])
    f = inputs(STEPS, "lstm_step_forward")
    for route in (cy_steps.lstm_step_forward, _backend.lstm_step_forward):   # h written into W_hh's first rows
        with pytest.raises(ValueError, match="^h: .* overlaps w_hh$"):
            route(f["xp"], f["h_prev"], f["c_prev"], f["w_hh"], "sigmoid", h=f["w_hh"][:2])
    square = rng.standard_normal((4, 4))
    with pytest.raises(ValueError, match="^out: .* overlaps w$"):
        cy_steps.transposed(square, out=square)


@pytest.mark.parametrize("route", ["kernel", "backend"])
def test_outputs_side_by_side_in_one_buffer_are_fine(route, dtype):
    """No false alarm: outputs and inputs that are adjacent, non-overlapping views of one buffer (as a Scan's
    per-sequence blocks are) give the twin's answer."""
    if route == "kernel" and _blas is None:
        pytest.skip("Cython kernels not built")
    args = inputs(STEPS, "lstm_step_forward", dtype)
    sizes = {"xp": B * 4 * H, "h_prev": B * H, "c_prev": B * H, "w_hh": 4 * H * H, "gates": B * 4 * H, "c": B * H,
             "h": B * H}
    buf = np.zeros(sum(sizes.values()), dtype)
    views, start = {}, 0
    for n, size in sizes.items():
        views[n] = buf[start:start + size].reshape(args[n].shape if n in args else
                                                   shape(dict(STEPS["lstm_step_forward"][2])[n]))
        start += size
        if n in args:
            views[n][...] = args[n]
    fn = cy_steps.lstm_step_forward if route == "kernel" else _backend.lstm_step_forward
    got = fn(views["xp"], views["h_prev"], views["c_prev"], views["w_hh"], "sigmoid", gates=views["gates"],
             c=views["c"], h=views["h"])
    assert all(g.base is buf for g in got)
    for g, w in zip(got, twin(STEPS, "lstm_step_forward", args)):
        np.testing.assert_allclose(g, w, rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("name", ["lstm_step_forward", "gru_step_forward", "peephole_step_forward"])
def test_backend_refuses_two_outputs_that_overlap(name, dtype):
    """_backend (either backend) also refuses two outputs that overlap each other, not only one over an input."""
    args = inputs(STEPS, name, dtype)
    ins = [args[n] for n, _ in STEPS[name][0]]
    first, second, width = ("hp", "gates", 3) if name == "gru_step_forward" else ("c", "h", 1)
    shared = np.zeros((B, width * H), dtype)
    with pytest.raises(ValueError, match=f"^({first}|{second}): expected an array that shares no memory .* "
                                         f"overlaps ({first}|{second})$"):
        getattr(_backend, name)(*ins, **{first: shared, second: shared})
    assert not shared.any()


# ---- GEMM sizes beyond BLAS's int -------------------------------------------------------------------------------

@pytest.fixture(params=["scipy", "numpy-cblas"])
def blas(request):
    """The kernels on scipy's BLAS (C int sizes), or on NumPy's CBLAS when it can be found; restored afterwards."""
    if _blas is None:
        pytest.skip("Cython kernels not built")
    if request.param == "scipy":
        _blas.use_cblas()
    else:
        found = _blas_choice.numpy_cblas()
        if found is None:
            pytest.skip("NumPy's CBLAS was not found")
        _blas.use_cblas(*found[1:])
    try:
        yield request.param, (2**31 - 1 if request.param == "scipy" or found[3] == 32 else 2**63 - 1)
    finally:
        _blas_choice.choose(_blas)


def test_gemm_sizes_are_checked_against_the_blas_int(blas):
    """Each of M, N, K, lda, ldb, ldc one past what the BLAS in use takes is a ValueError (a C int silently truncated
    2³¹ + 5 to 5 before); up to the limit it passes; an empty inner dimension never goes to BLAS, so any M·N does."""
    _, limit = blas
    assert _blas.int_max() == limit
    ok = (7, 5, 3, 3, 5, 5)
    _blas.check_gemm_sizes(*ok)
    if limit < 2**63 - 1:
        for i in range(6):
            sizes = list(ok)
            sizes[i] = limit + 1
            with pytest.raises(ValueError, match=f"at most {limit}"):
                _blas.check_gemm_sizes(*sizes)
            sizes[i] = limit
            _blas.check_gemm_sizes(*sizes)
    else:
        _blas.check_gemm_sizes(2**31 + 5, 2**31, 2**31, 2**31, 2**31, 2**31)    # a 64-bit CBLAS takes these
    _blas.check_gemm_sizes(2**30 + 512, 2**31 + 1024, 0, 1, 1, 2**31 + 1024)  # the (2, 0) @ (0, 2³⁰+512)ᵀ
    _blas.check_gemm_sizes(2**40, 0, 2**40, 2**40, 1, 1)


GEMM_CALLS = {   # each kernel that runs a GEMM, called with batch size b: (callable, what it writes into)
    "linear_act_forward": lambda b, d: cy_linear.linear_act_forward(*_rand((b, 3), (4, 3)), None, "tanh", d((b, 4))),
    "linear_act_backward": lambda b, d: cy_linear.linear_act_backward(*_rand((b, 3), (4, 3), (b, 4), (b, 4)), "tanh",
                                                                      d((b, 3)), d((4, 3)), d((4,))),
    "lstm_step_forward": lambda b, d: cy_steps.lstm_step_forward(*_rand((b, 8), (b, 2), (b, 2), (8, 2)), "sigmoid",
                                                                 d((b, 8)), d((b, 2)), d((b, 2))),
    "lstm_step_forward(transposed)": lambda b, d: cy_steps.lstm_step_forward(
        *_rand((b, 8), (b, 2), (b, 2), (2, 8)), "sigmoid", d((b, 8)), d((b, 2)), d((b, 2)), True),
    "lstm_step_backward": lambda b, d: cy_steps.lstm_step_backward(*_rand((b, 8), (b, 2), (b, 2), (8, 2), (b, 2),
                                                                          (b, 2)), "sigmoid", d((b, 8)), d((b, 2)),
                                                                   d((b, 2))),
    "peephole_step_forward": lambda b, d: cy_steps.peephole_step_forward(
        *_rand((b, 8), (b, 2), (b, 2), (8, 2), (2,), (2,), (2,)), "sigmoid", d((b, 8)), d((b, 2)), d((b, 2))),
    "peephole_step_backward": lambda b, d: cy_steps.peephole_step_backward(
        *_rand((b, 8), (b, 2), (b, 2), (8, 2), (2,), (2,), (2,), (b, 2), (b, 2)), "sigmoid", d((b, 8)), d((b, 2)),
        d((b, 2)), d((2,)), d((2,)), d((2,))),
    "gru_step_forward": lambda b, d: cy_steps.gru_step_forward(*_rand((b, 6), (b, 2), (6, 2), (6,)), "sigmoid",
                                                               d((b, 6)), d((b, 6)), d((b, 2))),
    "gru_step_backward": lambda b, d: cy_steps.gru_step_backward(*_rand((b, 6), (b, 6), (b, 2), (6, 2), (b, 2)),
                                                                 "sigmoid", d((b, 6)), d((b, 6)), d((b, 2))),
    "rnn_step_forward": lambda b, d: cy_steps.rnn_step_forward(*_rand((b, 2), (b, 2), (2, 2)), "tanh", d((b, 2))),
    "rnn_step_backward": lambda b, d: cy_steps.rnn_step_backward(*_rand((b, 2), (2, 2), (b, 2)), "tanh", d((b, 2)),
                                                                 d((b, 2))),
}


def _rand(*shapes):
    rng = np.random.default_rng(9)
    return [rng.uniform(0.1, 0.9, s) for s in shapes]


@pytest.mark.parametrize("name", list(GEMM_CALLS))
def test_every_gemm_kernel_refuses_sizes_beyond_the_limit(name, blas):
    """With the BLAS limit lowered to 8 (standing in for 2³¹ − 1), a batch of 9 rows is refused by every kernel that
    runs a GEMM, before it writes anything; a batch of 8 runs. (All other sizes here are at most 8.)"""
    written = []

    def out(s):
        written.append(np.full(s, 7.0))
        return written[-1]

    old = _blas.int_max(8)
    try:
        with pytest.raises(ValueError, match="expected sizes the BLAS in use can index \\(at most 8\\)"):
            GEMM_CALLS[name](9, out)
        assert all((a == 7.0).all() for a in written), "a refused call wrote its outputs"
        written.clear()
        GEMM_CALLS[name](8, out)
        assert any((a != 7.0).any() for a in written)
    finally:
        _blas.int_max(old)
    assert _blas.int_max() == old


def test_backend_passes_the_size_error_on(blas):
    """Through _backend the size error is not swallowed by the fallback path: the same ValueError."""
    if _backend.BACKEND != "cython":
        pytest.skip("the NumPy twins call NumPy's matmul, whose sizes are not limited")
    old = _blas.int_max(8)
    try:
        with pytest.raises(ValueError, match="at most 8"):
            _backend.lstm_step_forward(*_rand((9, 8), (9, 2), (9, 2), (8, 2)))
        with pytest.raises(ValueError, match="at most 8"):
            _backend.linear_act_forward(*_rand((9, 3), (4, 3)))
    finally:
        _blas.int_max(old)


@pytest.mark.parametrize("code", [">f4", ">f8", "<f4", "<f8"])
def test_a_tensor_made_from_a_byte_swapped_array_keeps_its_precision(code):
    # Tensor(np.array(..., '>f8')) used to become float32: only native float dtypes were recognised.
    a = np.arange(6.0).astype(code)
    t = tg.Tensor(a)
    assert t.dtype == np.dtype(code).newbyteorder("=") and t.dtype.isnative
    np.testing.assert_array_equal(t.data, np.arange(6.0))


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_step_backward_without_dh_is_zero_on_both_backends(value, nonlinearity):
    # Found by the random battery: with dh=None (no gradient) and a non-finite h, the kernel gave 0 and the NumPy
    # twin 0·inf = nan. No gradient is zero, as the docstring says, whatever act'(h) is.
    h, w = np.array([[value, 0.5]]), np.array([[0.5, 0.25], [1.0, -1.0]])
    dz, dh_prev = _backend.numpy_twins.rnn_step_backward(h, w, None, nonlinearity)
    np.testing.assert_array_equal(dz, np.zeros((1, 2)))
    np.testing.assert_array_equal(dh_prev, np.zeros((1, 2)))
    if _blas is not None:
        from tinygrad_rnn.backend._kernels import steps
        kz, kprev = steps.rnn_step_backward(h, w, None, nonlinearity)
        np.testing.assert_array_equal(kz, dz)
        np.testing.assert_array_equal(kprev, dh_prev)
