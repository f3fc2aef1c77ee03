"""Issue 8, item 8: the kernel boundary. Every kernel, through backend/calls.py and called directly in
tinygrad_rnn.backend._kernels.{linear,gates,steps}, is fed wrong dtypes, layouts, shapes, types, read-only and aliased
arrays, zero-size dimensions and non-finite values. Each call either returns what the NumPy twin returns for the same
values (after the boundary's documented copy of a non-contiguous input), or raises TypeError/ValueError naming an
argument. Never a crash, never a wrong answer: the hypothesis battery (≥ 2,000 random calls) runs in a child process,
so a segfault shows up as a failed test.

Documented exception: the direct Cython entry points do not copy (a non-contiguous array is a ValueError there).
A byte-swapped array ('>f8') is refused by the kernels and copied to native order by the boundary, like a
non-contiguous one. Outputs sharing memory with an input or another output are refused by every kernel and by the
boundary (test_kernel_safety.py). Kernels the engine does not call have no function of their own in calls.py: they
go through the same checked call, calls.call(name, ...).
"""
import functools
import os
import subprocess
import sys

import numpy as np
import pytest

from tinygrad_rnn.backend import calls as _backend
from tinygrad_rnn.nn.functional import linear

kernels = {}
try:
    from tinygrad_rnn.backend._kernels import gates as _cy_gates, linear as _cy_linear, steps as _cy_steps
    kernels = {"linear": _cy_linear, "gates": _cy_gates, "steps": _cy_steps}
except ImportError:  # the NumPy backend only: the direct-call cases skip
    pass

ACTS = ("sigmoid", "hard_sigmoid")
# name: (module holding the Cython entry point, [(argument, shape, kind)], optional arguments through _backend,
#        optional arguments in the direct call, reference argument, act names or None, output shapes for gates.pyx)
# shapes use B, H (recurrent) or B, I, O (linear); kind "gate" draws values in (0, 1)
K = {
    "linear_act_forward": ("linear", [("x", "B I"), ("weight", "O I"), ("bias", "O")], {"bias"}, {"bias"}, "x",
                           ("identity", "sigmoid", "tanh", "hard_sigmoid"), None),
    "linear_act_backward": ("linear", [("x", "B I"), ("weight", "O I"), ("y", "B O"), ("dy", "B O")], set(), set(),
                            "x", ("identity", "sigmoid", "tanh", "hard_sigmoid"), None),
    "lstm_gates_forward": ("gates", [("z", "B 4H"), ("c_prev", "B H")], set(), set(), "c_prev", ACTS,
                           ["B 4H", "B H", "B H"]),
    "lstm_gates_backward": ("gates", [("gates", "B 4H gate"), ("c_prev", "B H"), ("c", "B H"), ("dh", "B H"),
                                      ("dc", "B H")], {"dh", "dc"}, {"dh", "dc"}, "c_prev", ACTS, ["B 4H", "B H"]),
    "lstm_step_forward": ("steps", [("xp", "B 4H"), ("h_prev", "B H"), ("c_prev", "B H"), ("w_hh", "4H H")], set(),
                          set(), "h_prev", ACTS, None),
    "lstm_step_backward": ("steps", [("gates", "B 4H gate"), ("c_prev", "B H"), ("c", "B H"), ("w_hh", "4H H"),
                                     ("dh", "B H"), ("dc", "B H")], {"dh", "dc"}, {"dh", "dc"}, "c_prev", ACTS, None),
    "peephole_gates_forward": ("gates", [("z", "B 4H"), ("c_prev", "B H"), ("w_ci", "H"), ("w_cf", "H"),
                                         ("w_co", "H")], set(), set(), "c_prev", ACTS, ["B 4H", "B H", "B H"]),
    "peephole_gates_backward": ("gates", [("gates", "B 4H gate"), ("c_prev", "B H"), ("c", "B H"), ("w_ci", "H"),
                                          ("w_cf", "H"), ("w_co", "H"), ("dh", "B H"), ("dc", "B H")], {"dh", "dc"},
                                {"dh", "dc"}, "c_prev", ACTS, ["B 4H", "B H", "H", "H", "H"]),
    "peephole_step_forward": ("steps", [("xp", "B 4H"), ("h_prev", "B H"), ("c_prev", "B H"), ("w_hh", "4H H"),
                                        ("w_ci", "H"), ("w_cf", "H"), ("w_co", "H")], set(), set(), "h_prev", ACTS,
                              None),
    "peephole_step_backward": ("steps", [("gates", "B 4H gate"), ("c_prev", "B H"), ("c", "B H"), ("w_hh", "4H H"),
                                         ("w_ci", "H"), ("w_cf", "H"), ("w_co", "H"), ("dh", "B H"), ("dc", "B H")],
                               {"dh", "dc"}, {"dh", "dc"}, "c_prev", ACTS, None),
    "gru_gates_forward": ("gates", [("xp", "B 3H"), ("hp", "B 3H"), ("h_prev", "B H")], set(), set(), "h_prev", ACTS,
                          ["B 3H", "B H"]),
    "gru_gates_backward": ("gates", [("gates", "B 3H gate"), ("hp", "B 3H"), ("h_prev", "B H"), ("dh", "B H")],
                           {"dh"}, {"dh"}, "h_prev", ACTS, ["B 3H", "B 3H", "B H"]),
    "gru_step_forward": ("steps", [("xp", "B 3H"), ("h_prev", "B H"), ("w_hh", "3H H"), ("b_hh", "3H")], {"b_hh"},
                         {"b_hh"}, "h_prev", ACTS, None),
    "gru_step_backward": ("steps", [("gates", "B 3H gate"), ("hp", "B 3H"), ("h_prev", "B H"), ("w_hh", "3H H"),
                                    ("dh", "B H")], {"dh"}, {"dh"}, "h_prev", ACTS, None),
    "gru_cho_reset_forward": ("gates", [("xp", "B 3H"), ("hp_rz", "B 2H"), ("h_prev", "B H")], set(), set(),
                              "h_prev", ACTS, ["B 2H", "B H"]),
    "gru_cho_update_forward": ("gates", [("xp", "B 3H"), ("hn", "B H"), ("gates_rz", "B 2H gate"), ("h_prev", "B H")],
                               set(), set(), "h_prev", None, ["B H", "B H"]),
    "gru_cho_update_backward": ("gates", [("gates_rz", "B 2H gate"), ("n", "B H"), ("h_prev", "B H"), ("dh", "B H")],
                                {"dh"}, set(), "h_prev", ACTS, ["B H", "B H", "B H"]),
    "gru_cho_reset_backward": ("gates", [("gates_rz", "B 2H gate"), ("h_prev", "B H"), ("d_rh", "B H")], set(), set(),
                               "h_prev", ACTS, ["B H", "B H"]),
    "rnn_step_forward": ("steps", [("xp", "B H"), ("h_prev", "B H"), ("w_hh", "H H")], set(), set(), "h_prev",
                         ("tanh", "relu"), None),
    "rnn_step_backward": ("steps", [("h", "B H"), ("w_hh", "H H"), ("dh", "B H")], {"dh"}, {"dh"}, "h",
                          ("tanh", "relu"), None),
}
OTHER_TYPES = [np.int64, np.int32, np.bool_, np.complex128, np.float16, object]
LAYOUTS = ["fortran", "transposed", "reversed", "broadcast", "strided", "readonly"]
BREAKS = ["ndim+", "ndim-", "shape+", "list", "None", "scalar"]


def shape_of(spec, dims):
    """'B 4H' with dims {'B': 2, 'H': 3} -> (2, 12)."""
    out = []
    for part in spec.split():
        if part == "gate":
            continue
        k = part[:-1] if part[:-1].isdigit() else ""
        out.append((int(k) if k else 1) * dims[part[len(k):]])
    return tuple(out)


def make_args(name, dims, dtype, rng):
    args = []
    for arg, spec in K[name][1]:
        shape = shape_of(spec, dims)
        a = rng.uniform(0.05, 0.95, shape) if "gate" in spec else rng.standard_normal(shape)
        args.append(a.astype(dtype))
    return args


def mutate(a, how, dtype, rng):
    """a changed as `how` says; returns (new value, verdict): 'ok', 'copy' (right dtype and shape, not C-contiguous:
    _backend copies it) or 'bad' (must be refused)."""
    if how in LAYOUTS:
        if how == "fortran":
            b = np.asfortranarray(a)
        elif how == "transposed":
            b = np.ascontiguousarray(a.T).T
        elif how == "reversed":                      # negative strides
            b = a[::-1].copy()[::-1]
        elif how == "broadcast":                     # zero strides
            b = np.broadcast_to(a[:1], a.shape) if a.shape[0] else a
        elif how == "strided":
            wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
            wide[..., ::2] = a
            b = wide[..., ::2]
        else:
            b = a.copy()
            b.flags.writeable = False
        return b, ("ok" if b.flags.c_contiguous else "copy")
    if how == "nonfinite":
        b = a.copy()
        if b.size:
            b.flat[rng.integers(0, b.size, 3)] = rng.choice([np.nan, np.inf, -np.inf], 3)
        return b, "ok"
    if how == "byteswapped":                         # '>f8' on a little-endian machine: the kernels refuse it,
        return a.astype(a.dtype.newbyteorder("S")), "copy"    # _backend copies it to native order (issue 11)
    if how == "other_float":                         # refused unless every array gets it (see _check_call)
        return a.astype(np.float32 if dtype == np.float64 else np.float64), "ok"
    if isinstance(how, type) or how is object:
        return a.astype(how), "bad"
    if how == "ndim+":                               # shape changes: judged by consistent_shapes()
        return a[None], "ok"
    if how == "ndim-":
        return a.reshape(-1) if a.ndim == 2 else a.reshape(1, -1), "ok"
    if how == "shape+":
        return np.concatenate([a, a[..., :1] if a.shape[-1] else np.ones(a.shape[:-1] + (1,), a.dtype)], -1), "ok"
    if how == "list":
        return a.tolist(), "bad"
    if how == "None":
        return None, "none"
    if how == "scalar":
        return 1.0, "bad"
    raise AssertionError(how)


def consistent_shapes(name, args, dims=None):
    """Whether the arrays' shapes fit the kernel's for some B, H (or B, I, O): x (3, 5) and W (2, 5) do, whatever
    the shapes were meant to be. The dimensions found go into `dims`."""
    dims = {} if dims is None else dims
    for (_, spec), a in zip(K[name][1], args):
        if not isinstance(a, np.ndarray):
            continue
        parts = [p for p in spec.split() if p != "gate"]
        if a.ndim != len(parts):
            return False
        for part, size in zip(parts, a.shape):
            k = int(part[:-1]) if part[:-1].isdigit() else 1
            if size % k or dims.setdefault(part[-1], size // k) != size // k:
                return False
    return True


def reference(name, args, act):
    """The NumPy twin's outputs for the same values, every array C-contiguous."""
    clean = [np.ascontiguousarray(a) if isinstance(a, np.ndarray) else a for a in args]
    with _backend.use_backend("numpy"):
        out = through_backend(name)(*clean, *([] if act is None else [act]))
    return out if isinstance(out, tuple) else (out,)


def direct(name, args, act, dims, dtype):
    """The Cython entry point itself: outputs allocated (gates.pyx wants them) or left to the kernel."""
    module, _, _, _, _, acts, out_shapes = K[name]
    fn = getattr(kernels[module], name)
    extra = [] if acts is None else [act]
    if name == "linear_act_forward":
        return (fn(*args, act),)
    if name == "linear_act_backward":
        x, w = args[0], args[1]
        B = dims["B"]
        outs = (np.empty((B, dims["I"]), dtype), np.empty((dims["O"], dims["I"]), dtype), np.empty(dims["O"], dtype))
        fn(x, w, args[2], args[3], act, *outs)
        return outs
    if out_shapes is not None:
        outs = tuple(np.empty(shape_of(s, dims), dtype) for s in out_shapes)
        fn(*args, *extra, *outs)
        return outs
    out = fn(*args, *extra)
    return out if isinstance(out, tuple) else (out,)


def through_backend(name):
    """The engine's function for kernel `name` in calls.py, or the generic checked call the others go through."""
    return getattr(_backend, name, None) or functools.partial(_backend.call, name)


def via_backend(name, args, act):
    out = through_backend(name)(*args, *([] if K[name][5] is None else [act]))
    out = out if isinstance(out, tuple) else (out,)
    if name == "linear_act_backward":
        out = tuple(o for o in out if o is not None)
    return out


TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-9, atol=1e-11)}


def check_call(name, dims, dtype, changes, act, route, seed=0):
    """Calls kernel `name` with arguments changed as `changes` ({argument: how}) says, through `route` ("backend"
    or "direct"), and checks the verdict: the twin's answer, or TypeError/ValueError naming an argument."""
    with np.errstate(all="ignore"):                  # NaN and inf inputs: the twin's warnings are expected
        _check_call(name, dims, dtype, changes, act, route, seed)


def _check_call(name, dims, dtype, changes, act, route, seed):
    rng = np.random.default_rng(seed)
    dims = dict(dims)
    module, spec, opt_backend, opt_direct, ref_arg, acts, _ = K[name]
    names = [n for n, _ in spec]
    args = make_args(name, dims, dtype, rng)
    verdicts = {}
    for i, n in enumerate(names):
        if n in changes:
            args[i], verdicts[n] = mutate(args[i], changes[n], dtype, rng)
            if verdicts[n] == "none":
                verdicts[n] = "ok" if n in (opt_backend if route == "backend" else opt_direct) else "bad"
    ref = args[names.index(ref_arg)]
    if isinstance(ref, np.ndarray) and native(ref) in (np.float32, np.float64):
        dtype = native(ref).type                     # the dtype the kernel reads from its reference argument
    for n, a in zip(names, args):                    # every float array must have that one (in either byte order)
        if isinstance(a, np.ndarray) and native(a) in (np.float32, np.float64) and native(a) != dtype:
            verdicts[n] = "bad"
    found = {}
    if consistent_shapes(name, args, found):
        dims.update(found)                           # the dimensions the arrays now have
    else:
        verdicts.update({n: "bad" for n in changes if changes[n] in ("ndim+", "ndim-", "shape+")})
    bad = [n for n, v in verdicts.items() if v == "bad" or (route == "direct" and v == "copy")]
    if act == "__bad__":
        act, bad = "relu" if acts is not None and "tanh" not in acts else "softsign", bad + ["act", "nonlinearity"]
        if acts is None:
            return                                   # gru_cho_update_forward takes no act
    call = (lambda: via_backend(name, args, act)) if route == "backend" else (lambda: direct(name, args, act, dims,
                                                                                             dtype))
    if not bad:
        got = call()
        want = reference(name, [a for a in args], act)
        want = tuple(w for w in want if w is not None)
        assert len(got) == len(want), (name, len(got), len(want))
        for g, w in zip(got, want):
            assert isinstance(g, np.ndarray) and g.dtype == dtype and g.shape == w.shape, (name, g, w)
            np.testing.assert_allclose(g, w, equal_nan=True, err_msg=f"{name} {changes} via {route}", **TOL[dtype])
        return
    with pytest.raises((TypeError, ValueError)) as info:
        call()
    message = str(info.value)
    culprits = set(bad) | {ref_arg}
    if ref_arg in changes:                           # the argument the others' dtype and shape are read from
        culprits |= set(names)
    assert any(f"{n}:" in message for n in culprits), (name, changes, route, message)


def native(a):
    """a's dtype in native byte order."""
    return a.dtype.newbyteorder("=")


def routes():
    return ["backend"] + (["direct"] if kernels else [])


# ---- the deterministic table: every kernel, every argument, every change ------------------------------------------
CHANGES = ["other_float", "byteswapped", *OTHER_TYPES, *LAYOUTS, *BREAKS, "nonfinite"]


@pytest.mark.parametrize("route", ["backend", "direct"])
@pytest.mark.parametrize("name", list(K))
def test_every_argument_every_change(name, route, dtype):
    if route == "direct" and not kernels:
        pytest.skip("Cython kernels not built")
    dims = {"B": 3, "H": 2, "I": 4, "O": 5}
    for arg, _ in K[name][1]:
        for how in CHANGES:
            check_call(name, dims, dtype, {arg: how}, K[name][5][0] if K[name][5] else None, route)


@pytest.mark.parametrize("route", ["backend", "direct"])
@pytest.mark.parametrize("name", list(K))
def test_zero_size_dimensions_and_bad_act(name, route):
    if route == "direct" and not kernels:
        pytest.skip("Cython kernels not built")
    act = K[name][5][0] if K[name][5] else None
    for dims in ({"B": 0, "H": 3, "I": 2, "O": 3}, {"B": 2, "H": 0, "I": 0, "O": 0}, {"B": 0, "H": 0, "I": 0, "O": 0}):
        check_call(name, dims, np.float64, {}, act, route)
    check_call(name, {"B": 2, "H": 3, "I": 2, "O": 3}, np.float32, {}, "__bad__", route)


def test_linear_out_argument_is_checked():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 4)), rng.standard_normal((4, 4))
    want = np.tanh(x @ w.T)
    out = np.empty((3, 4))
    assert _backend.linear_act_forward(x, w, None, "tanh", out=out) is out
    np.testing.assert_allclose(out, want, rtol=1e-12)
    read_only = np.empty((3, 4))
    read_only.flags.writeable = False
    cases = [(read_only, "read-only"), (x, "shares no memory"), (np.empty((4, 3)).T, "C-contiguous"),
             (np.empty((3, 4), np.float32), "float64"), (np.empty((3, 5)), "shape"), ([[0.0] * 4] * 3, "ndarray")]
    for bad, words in cases:
        with pytest.raises((TypeError, ValueError), match=words) as info:
            _backend.linear_act_forward(x, w, None, "tanh", out=bad)
        assert str(info.value).startswith("out:")
    with pytest.raises(ValueError, match="out: .*shares no memory"):
        _backend.linear_act_forward(x, w, None, "tanh", out=w[:3])


@pytest.mark.skipif(not kernels, reason="Cython kernels not built")
def test_direct_outputs_read_only_or_aliased():
    """Outputs handed to a Cython entry point: read-only ones are refused, and so are ones aliasing an input (every
    kernel and output: test_kernel_safety.py)."""
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((3, 4)), rng.standard_normal((4, 4))
    ro = np.empty((3, 4))
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="y: .*read-only"):
        _cy_linear.linear_act_forward(x, w, None, "tanh", ro)
    B, H = 2, 3
    xp, h, c, w_hh = (rng.standard_normal(s) for s in [(B, 4 * H), (B, H), (B, H), (4 * H, H)])
    want = reference("lstm_step_forward", [xp, h, c, w_hh], "sigmoid")
    ro_c = np.empty((B, H))
    ro_c.flags.writeable = False
    with pytest.raises(ValueError, match="c: .*read-only"):
        _cy_steps.lstm_step_forward(xp, h, c, w_hh, "sigmoid", None, ro_c, None)
    for out_index, alias in [(0, "xp"), (1, "c_prev"), (2, "h_prev")]:
        args = {"xp": xp.copy(), "h_prev": h.copy(), "c_prev": c.copy()}
        outs = [None, None, None]
        outs[out_index] = args[alias]
        with pytest.raises(ValueError, match=f"overlaps {alias}$"):
            _cy_steps.lstm_step_forward(args["xp"], args["h_prev"], args["c_prev"], w_hh, "sigmoid", *outs)
    np.testing.assert_allclose(_cy_steps.lstm_step_forward(xp, h, c, w_hh, "sigmoid")[2], want[2], rtol=1e-12)


@pytest.mark.skipif(not kernels, reason="Cython kernels not built")
def test_direct_linear_output_aliasing_an_input():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((3, 4)), rng.standard_normal((4, 4))
    x_alias = x.copy()
    try:
        got = _cy_linear.linear_act_forward(x_alias, w, None, "tanh", x_alias)
    except ValueError as err:
        assert "y:" in str(err)
    else:
        np.testing.assert_allclose(got, np.tanh(x @ w.T), rtol=1e-12)


@pytest.mark.skipif(not kernels, reason="Cython kernels not built")
def test_relu_of_nan():
    xp, h, w = np.array([[np.nan, 1.0]]), np.zeros((1, 2)), np.eye(2)
    np.testing.assert_array_equal(_cy_steps.rnn_step_forward(xp, h, w, "relu"), reference("rnn_step_forward",
                                                                                         [xp, h, w], "relu")[0])


# ---- the same through the public API -----------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["fortran", "transposed", "reversed", "broadcast", "strided", "readonly"])
def test_public_api_takes_any_layout(how, dtype):
    """Tensors whose data are non-contiguous or read-only views give the contiguous answer, gradients included."""
    import tinygrad_rnn as tg

    rng = np.random.default_rng(3)
    views = [mutate(rng.standard_normal(shape).astype(dtype), how, dtype, rng)[0] for shape in [(4, 3), (5, 3), (5,)]]
    results = []
    for arrays in (views, [np.ascontiguousarray(a) for a in views]):
        x, w, b = (tg.Tensor._make(a, None).requires_grad_() for a in arrays)
        y = linear(x, w, b, act="tanh")
        (y * y).sum().backward()
        results.append([y.data, x.grad, w.grad, b.grad])
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, **TOL[dtype])


@pytest.mark.parametrize("make", ["LSTM", "GRU", "GRU-cho", "RNN", "PeepholeLSTM"])
@pytest.mark.parametrize("scan", [True, False], ids=["scan", "per-step"])
def test_public_api_zero_sizes_and_dtypes(make, scan):
    import tinygrad_rnn as tg
    from tinygrad_rnn import nn

    cls = getattr(nn, make.split("-")[0])
    layer = cls(3, 4, dtype=np.float64, **({"reset_after": False} if make == "GRU-cho" else {}))
    layer.scan = scan
    out, state = layer(tg.Tensor(np.zeros((5, 0, 3))))              # an empty batch
    assert out.shape == (5, 0, 4)
    out.sum().backward()
    assert all(p.grad is None or not p.grad.any() for p in layer.parameters())
    with pytest.raises(ValueError, match="sequence length"):
        layer(tg.Tensor(np.zeros((0, 2, 3))))
    with pytest.raises(ValueError, match="dtype"):
        layer(tg.Tensor(np.zeros((5, 2, 3)), dtype=np.float32))
    with pytest.raises(TypeError, match="same dtype"):
        linear(tg.Tensor(np.ones((2, 3)), dtype=np.float32), tg.Tensor(np.ones((4, 3))))


# ---- the random battery (≥ 2,000 examples), in a child process ------------------------------------------------------
CHILD = "TINYGRAD_RNN_BOUNDARY_CHILD"


def _battery():
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    change = st.sampled_from(CHANGES + ["ok"] * 8)

    @st.composite
    def calls(draw):
        name = draw(st.sampled_from(list(K)))
        dims = {k: draw(st.integers(0, 4)) for k in "BHIO"}
        dtype = draw(st.sampled_from([np.float32, np.float64]))
        names = [n for n, _ in K[name][1]]
        changes = {n: c for n in names for c in [draw(change)] if c != "ok"}
        acts = K[name][5]
        act = draw(st.sampled_from(list(acts) + ["__bad__"])) if acts else None
        route = draw(st.sampled_from(routes()))
        return name, dims, dtype, changes, act, route, draw(st.integers(0, 2**31))

    @settings(max_examples=2500, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(calls())
    def battery(call):
        name, dims, dtype, changes, act, route, seed = call
        check_call(name, dims, dtype, changes, act, route, seed)
        checked.append(name)

    return battery


@pytest.mark.skipif(os.environ.get(CHILD) != "1", reason="runs in the child process of test_random_battery")
def test_random_battery_child():
    _battery()()
    assert len(checked) >= 2000 and set(checked) == set(K), (len(checked), set(K) - set(checked))
    print(f"battery: {len(checked)} calls checked")


checked = []


@pytest.mark.slow
def test_random_battery():
    """2,500 random calls (random kernel, dtype, dimensions including 0, argument changes and route) in a child
    process: a crash would be its exit status, not the end of this test run."""
    env = dict(os.environ, **{CHILD: "1"})
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "-x",
                             f"{os.path.abspath(__file__)}::test_random_battery_child"],
                            capture_output=True, text=True, env=env, timeout=600, cwd=os.getcwd())
    assert result.returncode == 0, f"exit status {result.returncode}\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}"
    assert "1 passed" in result.stdout and "calls checked" in result.stdout


# ---- which build is under test (CI runs these tests against a TINYGRAD_RNN_DEBUG=1 build too) -------------------
def test_kernels_come_from_the_expected_build():
    where = os.environ.get("TINYGRAD_RNN_EXPECT_KERNELS_FROM")
    if not where:
        pytest.skip("TINYGRAD_RNN_EXPECT_KERNELS_FROM is not set (only the debug-build CI step sets it)")
    assert kernels, "the Cython kernels did not import"
    for module in kernels.values():
        assert os.path.realpath(module.__file__).startswith(os.path.realpath(where)), module.__file__
