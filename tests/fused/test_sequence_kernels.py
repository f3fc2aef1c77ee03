"""Issue 15, item 1: the sequence kernels (backend/_kernels/sequence.pyx, driven by fused/sequence.py) give the numbers
of Scan's Python loop, the reference path: outputs, final states and every gradient to 1e-12 in float64, for every
cell, gate activation, direction, with and without lengths, stacked and bidirectional; each Cython kernel equals its
NumPy twin; the layers' gradients equal finite differences; bad arguments are refused naming them; anomaly mode
and retain_graph behave as on the reference path; random calls never crash (in a child process)."""
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import Tensor, nn
from tinygrad_rnn.backend import calls, numpy_twins
from tinygrad_rnn.fused import Scan, sequence

F64 = np.float64
LAYERS = {  # name: (layer class, keyword arguments)
    "rnn_tanh": (nn.RNN, {}),
    "rnn_relu": (nn.RNN, {"nonlinearity": "relu"}),
    "lstm": (nn.LSTM, {}),
    "lstm_hard": (nn.LSTM, {"gate_activation": "hard_sigmoid"}),
    "peephole": (nn.PeepholeLSTM, {}),
    "gru": (nn.GRU, {}),
    "gru_nobias": (nn.GRU, {"bias": False}),
    "gru_cho": (nn.GRU, {"reset_after": False}),
    "gru_cho_hard": (nn.GRU, {"reset_after": False, "gate_activation": "hard_sigmoid"}),
}
SEQUENCE_KERNELS = [name for name in calls.SPECS if "_sequence_" in name]


def _layer(name, I, H, **kw):
    cls, options = LAYERS[name]
    tg.manual_seed(0)
    return cls(I, H, dtype=F64, **options, **kw)


def _run(layer, x, hx, lengths, loss_on):
    """Outputs, final states and the gradients of x, the initial state and every parameter, for a loss on every
    output (`"ys"`), on the final state only (`"state"`), or both."""
    for p in layer.parameters():
        p.grad = None
    for t in [x, *hx]:
        t.grad = None
    out, state = layer(x, hx if len(hx) > 1 else hx[0], lengths=lengths)
    states = list(state) if isinstance(state, tuple) else [state]
    g = np.random.default_rng(3)
    loss = 0
    if loss_on in ("ys", "both"):
        loss = (out * Tensor(g.standard_normal(out.shape), dtype=F64)).sum()
    if loss_on in ("state", "both"):
        for s in states:
            loss = loss + (s * Tensor(g.standard_normal(s.shape), dtype=F64)).sum()
    loss.backward()
    return [out.data, *[s.data for s in states], x.grad, *[t.grad for t in hx]] + [p.grad for p in layer.parameters()]


def _both_paths(name, T, B, I, H, lengths=None, loss_on="ys", **kw):
    """(sequence kernel results, Scan's Python loop results) for the same layer and data, and how often the sequence
    kernels ran (so a test cannot pass by running the reference path twice)."""
    layer = _layer(name, I, H, **kw)
    D = 2 if kw.get("bidirectional") else 1
    L = kw.get("num_layers", 1)
    rng = np.random.default_rng(11)
    x = Tensor(rng.standard_normal((T, B, I)), dtype=F64, requires_grad=True)
    n_states = 2 if name.startswith(("lstm", "peephole")) else 1
    hx = [Tensor(rng.standard_normal((L * D, B, H)) * 0.5, dtype=F64, requires_grad=True) for _ in range(n_states)]
    counted = []
    real = sequence.forward

    def counting(*args, **kwargs):
        counted.append(1)
        return real(*args, **kwargs)
    try:
        sequence.forward = counting
        fast = _run(layer, x, hx, lengths, loss_on)
        with sequence.reference_loop():
            slow = _run(layer, x, hx, lengths, loss_on)
    finally:
        sequence.forward = real
    return fast, slow, len(counted)


@pytest.mark.parametrize("lengths", [None, [7, 3, 5, 1]], ids=["full", "lengths"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["one-way", "bidirectional"])
@pytest.mark.parametrize("name", list(LAYERS))
def test_sequence_kernels_equal_scans_python_loop(name, bidirectional, lengths):
    fast, slow, kernel_runs = _both_paths(name, T=7, B=4, I=3, H=5, lengths=lengths, num_layers=2,
                                          bidirectional=bidirectional)
    assert kernel_runs == (4 if bidirectional else 2)          # every layer and direction took the kernel path
    assert len(fast) == len(slow)
    for got, want in zip(fast, slow):
        assert got is not None and want is not None
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    assert np.abs(fast[-1]).max() > 0                           # the last parameter's gradient is not trivially 0


@pytest.mark.parametrize("loss_on", ["state", "both"])
@pytest.mark.parametrize("name", ["lstm", "peephole", "gru", "gru_cho", "rnn_tanh"])
def test_sequence_kernels_with_a_loss_on_the_final_state(name, loss_on):
    """Gradients that enter through h_n (and c_n) only, or both ways, with variable lengths (the final state of a
    short sequence is its state at its own length)."""
    fast, slow, kernel_runs = _both_paths(name, T=6, B=3, I=2, H=4, lengths=[6, 2, 4], loss_on=loss_on)
    assert kernel_runs == 1
    for got, want in zip(fast, slow):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (9, 1, 3, 17), (3, 2, 1, 33)], ids=["T1B1H1", "B1H17", "H33"])
@pytest.mark.parametrize("name", ["lstm", "peephole", "gru", "gru_cho", "rnn_relu"])
def test_sequence_kernels_at_odd_sizes(name, shape):
    T, B, I, H = shape
    fast, slow, _ = _both_paths(name, T, B, I, H)
    for got, want in zip(fast, slow):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["lstm", "peephole", "gru", "gru_cho", "rnn_tanh"])
def test_layer_gradients_through_the_sequence_kernels_equal_finite_differences(name):
    layer = _layer(name, 2, 3)
    rng = np.random.default_rng(5)
    x = Tensor(rng.standard_normal((4, 2, 2)), dtype=F64, requires_grad=True)
    h0 = Tensor(rng.standard_normal((1, 2, 3)) * 0.5, dtype=F64, requires_grad=True)
    lengths = [4, 2]

    def fn(x, h0, *params):
        out, state = layer(x, (h0, h0 * 0.5) if name in ("lstm", "peephole") else h0, lengths=lengths)
        h = state[0] if isinstance(state, tuple) else state
        return (out * out).sum() + (h * h).sum()
    assert sequence.driver_for(layer.recurrence.scan_step(layer.recurrence.prepare(layer._weights(0, 0)), 4)[0],
                               np.zeros((4, 2, 3)), [np.zeros((2, 3))], {}) is not None
    tg.gradcheck(fn, (x, h0, *layer.parameters()))


def test_reference_loop_and_anomaly_mode_take_scans_loop():
    layer, x = _layer("lstm", 3, 4), Tensor(np.ones((5, 2, 3)), dtype=F64)
    assert sequence.driver_for(nn.recurrences.LSTMRecurrence().scan_step(layer.weight_hh_l0, 5)[0], x.data,
                               [np.zeros((2, 4))] * 2, {"act": "sigmoid"}) is not None
    for block in (sequence.reference_loop, tg.detect_anomaly):
        with block():
            out, _ = layer(x)
        assert not isinstance(out._ctx.saved[0], sequence.Driver), block
    out, _ = layer(x)
    assert isinstance(out._ctx.saved[0], sequence.Driver)


def test_anomaly_in_backward_names_the_step_and_time():
    """A forward outside detect_anomaly() ran the kernel; a NaN reaching its backward inside is still reported with
    the step's op and the time step, as Scan's loop reports it."""
    layer = _layer("lstm", 3, 4)
    out, _ = layer(Tensor(np.random.default_rng(0).standard_normal((6, 2, 3)), dtype=F64))
    g = np.zeros(out.shape)
    g[3, 1, 2] = np.inf
    with tg.detect_anomaly(), pytest.raises(RuntimeError) as info, np.errstate(invalid="ignore"):
        out.backward(g)
    assert str(info.value).startswith("Function 'LSTMStepBackward' returned ")
    assert "at time step 3 of a Scan." in str(info.value)


@pytest.mark.parametrize("name", ["lstm", "peephole", "gru", "gru_cho", "rnn_tanh"])
def test_retain_graph_and_a_second_call_reusing_the_workspace(name):
    """A second backward (retain_graph) adds the same gradients again; a second forward, which gets the workspace's
    arrays back, gives the same numbers as the first (nothing of the first call's state leaks into it)."""
    layer = _layer(name, 3, 4)
    x = Tensor(np.random.default_rng(1).standard_normal((40, 8, 3)), dtype=F64, requires_grad=True)   # workspace-sized
    results = []
    for _ in range(2):
        for p in [x, *layer.parameters()]:
            p.grad = None
        out, _ = layer(x, lengths=[40, 3, 17, 40, 1, 2, 39, 20])
        loss = (out * out).sum()
        loss.backward(retain_graph=True)
        once = [x.grad.copy()] + [p.grad.copy() for p in layer.parameters()]
        loss.backward()
        for got, g in zip([x.grad] + [p.grad for p in layer.parameters()], once):
            np.testing.assert_allclose(got, 2 * g, rtol=1e-13, atol=1e-15)
        results.append([out.data.copy()] + once)
        del out, loss
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


# ---- the kernels themselves ------------------------------------------------------------------------------------

def _args(name, T, B, H, dtype, rng, keep=True):
    """Inputs of kernel `name` from its spec, states and gradients random, gates in (0, 1), keep a prefix mask."""
    spec = calls.SPECS[name]
    dims = {"T": T, "B": B, "H": H}
    args = []
    for arg, shape, optional in spec.inputs:
        if arg == "keep":
            lengths = rng.integers(1, T + 1, B)
            args.append((np.arange(T)[:, None] < lengths[None, :]).astype(dtype) if keep else None)
            continue
        size = tuple(k * dims[d] for k, d in shape)
        if arg in ("gates", "gates_rz"):
            args.append(rng.uniform(0.05, 0.95, size).astype(dtype))
        else:
            args.append((rng.standard_normal(size) * (0.4 if arg.startswith("w") else 1)).astype(dtype))
    return args


def _act(name):
    return "tanh" if name.startswith("rnn") else "sigmoid"


@pytest.mark.requires_kernels
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("keep", [False, True], ids=["full", "keep"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", SEQUENCE_KERNELS)
def test_cython_kernel_equals_its_numpy_twin(name, dtype, keep, reverse):
    from tinygrad_rnn.backend._kernels import sequence as cy
    rng = np.random.default_rng(4)
    for T, B, H in ((1, 1, 1), (5, 3, 4), (3, 2, 17)):
        args = _args(name, T, B, H, dtype, rng, keep)
        got = getattr(cy, name)(*args, _act(name), reverse=reverse)
        want = getattr(numpy_twins, name)(*args, _act(name), reverse=reverse)
        assert len(got) == len(want) == len(calls.SPECS[name].outputs)
        for a, b, (out_name, _) in zip(got, want, calls.SPECS[name].outputs):
            assert a.dtype == dtype and a.shape == b.shape, out_name
            tol = dict(rtol=1e-12, atol=1e-13) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-6)
            np.testing.assert_allclose(a, b, err_msg=f"{name} {out_name} T={T} B={B} H={H}", **tol)


def test_sequence_forward_with_transposed_weight_equals_the_plain_one():
    rng = np.random.default_rng(0)
    for name in ("rnn_sequence_forward", "lstm_sequence_forward", "peephole_sequence_forward", "gru_sequence_forward"):
        args = _args(name, 4, 2, 3, np.float64, rng)
        w = calls.SPECS[name].transposes
        transposed = list(args)
        transposed[w] = np.ascontiguousarray(args[w].T)
        plain = calls.call(name, *args, _act(name))
        other = calls.call(name, *transposed, _act(name), *([None] * len(plain)), False, True)
        for a, b in zip(plain, other):
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


def test_keep_carries_the_state_and_zeroes_the_output():
    rng = np.random.default_rng(2)
    xp, h0, c0, w = _args("lstm_sequence_forward", 5, 3, 4, np.float64, rng)[:4]
    keep = np.array([[1, 1, 1], [1, 0, 1], [1, 0, 1], [1, 0, 0], [1, 0, 0]], np.float64)
    gates, cs, hs, ys = calls.call("lstm_sequence_forward", xp, h0, c0, w, keep, "sigmoid")
    full = calls.call("lstm_sequence_forward", xp, h0, c0, w, None, "sigmoid")
    np.testing.assert_array_equal(hs[:, 0], full[2][:, 0])                   # row 0 never ends
    np.testing.assert_array_equal(hs[1:, 1], np.broadcast_to(hs[0, 1], (4, 4)))   # row 1 ends after step 0
    np.testing.assert_array_equal(ys[1:, 1], 0)
    np.testing.assert_array_equal(cs[3:, 2], np.broadcast_to(cs[2, 2], (2, 4)))
    dz, dh0, dc0 = calls.call("lstm_sequence_backward", gates, cs, c0, w, keep, None, None, np.ones((3, 4)), None,
                              "sigmoid")
    np.testing.assert_array_equal(dz[1:, 1], 0)                              # ended steps get no gradient
    np.testing.assert_array_equal(dz[3:, 2], 0)
    assert np.abs(dz[0, 1]).max() > 0 and np.abs(dc0[1]).max() > 0           # the final dc reached step 0 of row 1


@pytest.mark.parametrize("direct", [False, True], ids=["calls", "direct"])
def test_bad_arguments_are_refused_naming_them(direct, request):
    if direct:
        request.getfixturevalue("requires_kernels")
        from tinygrad_rnn.backend._kernels import sequence as cy
        fn = cy.lstm_sequence_forward
    else:
        def fn(*args, **kw):
            return calls.call("lstm_sequence_forward", *args, *kw.values())
    rng = np.random.default_rng(0)
    xp, h0, c0, w, keep = _args("lstm_sequence_forward", 4, 2, 3, np.float64, rng)
    with pytest.raises(ValueError, match=r"xp: expected shape \(4, 2, 12\)|xp: expected shape"):
        fn(xp[:, :, :-1].copy(), h0, c0, w, keep, "sigmoid")
    with pytest.raises(TypeError, match="c0: expected dtype float64"):
        fn(xp, h0, c0.astype(np.float32), w, keep, "sigmoid")
    with pytest.raises(ValueError, match="keep: expected shape"):
        fn(xp, h0, c0, w, keep[:, :1].copy(), "sigmoid")
    with pytest.raises(ValueError, match="act: expected one of"):
        fn(xp, h0, c0, w, keep, "tanh")
    hs = np.empty((4, 2, 3))
    with pytest.raises(ValueError, match="hs: expected an array that shares no memory"):
        fn(xp, h0, c0, w, keep, "sigmoid", None, None, hs, hs)
    ro = np.empty((4, 2, 3))
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        fn(xp, h0, c0, w, keep, "sigmoid", None, ro)
    buffer = np.empty((5, 2, 3))                                 # adjacent views of one buffer: fine (a Sequence's
    out = fn(xp, buffer[0], c0, w, keep, "sigmoid", None, None, buffer[1:])   # h0 and hs are)
    assert np.shares_memory(out[2], buffer)


def test_non_contiguous_inputs_are_copied_by_calls():
    rng = np.random.default_rng(0)
    args = _args("gru_sequence_backward", 4, 3, 5, np.float64, rng)
    want = calls.call("gru_sequence_backward", *args, "sigmoid")
    fortran = [np.asfortranarray(a) if isinstance(a, np.ndarray) else a for a in args]
    for a, b in zip(calls.call("gru_sequence_backward", *fortran, "sigmoid"), want):
        np.testing.assert_array_equal(a, b)


BATTERY = """
import numpy as np
from tinygrad_rnn.backend import calls
rng = np.random.default_rng(0)
names = [n for n in calls.SPECS if "_sequence_" in n]
for i in range(600):
    name = names[i % len(names)]
    spec = calls.SPECS[name]
    T, B, H = (int(v) for v in rng.integers(0, 6, 3))
    dims = {"T": T, "B": B, "H": H}
    dtype = np.float32 if i % 2 else np.float64
    args = []
    for arg, shape, optional in spec.inputs:
        size = tuple(k * dims[d] for k, d in shape)
        if optional and rng.random() < 0.3:
            args.append(None)
        elif arg == "keep":
            args.append((rng.random(size) < 0.7).astype(dtype))
        else:
            a = rng.standard_normal(size).astype(dtype)
            if a.size and rng.random() < 0.1:
                a.flat[0] = np.nan
            if rng.random() < 0.1:                         # a wrong size now and then: refused, never a crash
                a = a[..., :-1] if a.ndim and a.shape[-1] else a[None]
            args.append(a)
    act = "relu" if name.startswith("rnn") else "hard_sigmoid"
    try:
        out = calls.call(name, *args, act, *([None] * len(spec.outputs)), bool(i % 3 == 0))
    except (TypeError, ValueError):
        continue
    assert all(o.shape[0] in (T, B, H) for o in out)
print("ok")
"""


def test_random_calls_never_crash():
    """600 random calls (empty sizes, NaN, missing optional inputs, wrong shapes) in a child process, so that a
    memory error fails this test instead of the run."""
    result = subprocess.run([sys.executable, "-c", BATTERY], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]


def test_scan_apply_takes_the_kernel_for_every_fused_step():
    """Scan.apply itself (not only the layers) routes each fused step to its sequence kernel."""
    from tinygrad_rnn import fused as F
    for step in (F.RNNStep, F.LSTMStep, F.PeepholeLSTMStep, F.GRUStep, F.GRUChoStep):
        assert sequence.driver_for(step, np.zeros((2, 1, 3)), [np.zeros((1, 1))], {}) is not None
    xs = Tensor(np.ones((3, 2, 4)), dtype=F64, requires_grad=True)
    h, w = Tensor(np.zeros((2, 4)), dtype=F64), Tensor(np.eye(4) * 0.1, dtype=F64, requires_grad=True)
    ys, h_n = Scan.apply(xs, h, w, step=F.RNNStep, n_carry=1, options={"nonlinearity": "tanh"})
    assert isinstance(ys._ctx.saved[0], sequence.Driver)
    np.testing.assert_allclose(ys.data[0], np.tanh(np.ones((2, 4))))


# ---- the skinny-batch recurrent product (skinny.h) ---------------------------------------------------------------

def _skinny_module():
    pytest.importorskip("tinygrad_rnn.backend._kernels.sequence", reason="the Cython kernels are not built")
    from tinygrad_rnn.backend._kernels import sequence as cy
    return cy


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("trans", [False, True], ids=["B", "Bt"])
def test_skinny_micro_kernel_equals_blas_at_odd_sizes(dtype, trans):
    """Every build this CPU runs, against NumPy's matmul: B = 1, rows left over after the MR-row blocks (AVX-512:
    blocks of 8, then 4, then single rows: 12 = 8 + 4, 13 = 8 + 4 + 1, 23 = 2·8 + 4 + 3·1), N not a multiple of
    the panel width (the zero-padded last panel), K = 1, beta 0 and 1."""
    cy = _skinny_module()
    rng = np.random.default_rng(0)
    builds = [isa for isa in cy.ISAS if isa == "scalar" or cy.ISAS.index(isa) <= cy.ISAS.index(cy.skinny_isa())]
    assert cy.skinny_isa() in builds and "scalar" in builds
    for M, K, N in ((1, 32, 128), (1, 1, 1), (3, 17, 33), (5, 128, 70), (16, 128, 512), (7, 9, 15), (64, 40, 96),
                    (8, 20, 40), (12, 33, 64), (13, 5, 31), (23, 64, 97)):
        a = rng.standard_normal((M, K)).astype(dtype)
        b = rng.standard_normal((N, K) if trans else (K, N)).astype(dtype)
        want_b = b.T if trans else b
        c0 = rng.standard_normal((M, N)).astype(dtype)
        tol = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-5)
        for isa in builds:
            for beta in (0.0, 1.0):
                c = c0.copy()
                cy.skinny_gemm(a, b, c, beta=beta, trans=trans, isa=isa)
                np.testing.assert_allclose(c, a.astype(np.float64) @ want_b + beta * c0, err_msg=f"{isa} {M, K, N}",
                                           **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_skinny_micro_kernel_adds_a_bias_as_it_stores(dtype):
    """c = a @ B + bias for every build this CPU runs, bitwise what the copy of the bias into every row and beta = 1
    gave (the GRU forward's hp = h_prev @ W_hhᵀ + b_hh), c's old contents unread."""
    cy = _skinny_module()
    rng = np.random.default_rng(1)
    builds = [isa for isa in cy.ISAS if isa == "scalar" or cy.ISAS.index(isa) <= cy.ISAS.index(cy.skinny_isa())]
    for M, K, N in ((1, 1, 1), (13, 5, 31), (16, 128, 384), (23, 64, 97)):
        a = rng.standard_normal((M, K)).astype(dtype)
        b = rng.standard_normal((K, N)).astype(dtype)
        bias = rng.standard_normal(N).astype(dtype)
        for isa in builds:
            want = np.broadcast_to(bias, (M, N)).copy()
            cy.skinny_gemm(a, b, want, beta=1.0, isa=isa)
            got = np.full((M, N), np.nan, dtype)
            cy.skinny_gemm(a, b, got, isa=isa, bias=bias)
            np.testing.assert_array_equal(got, want, err_msg=f"{isa} {M, K, N}")
            tol = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-5)
            np.testing.assert_allclose(got, a.astype(np.float64) @ b + bias, err_msg=f"{isa} {M, K, N}", **tol)
    with pytest.raises(ValueError, match="bias"):
        cy.skinny_gemm(np.ones((2, 3)), np.ones((3, 4)), np.empty((2, 4)), bias=np.ones(3))


def test_skinny_gemm_refuses_bad_arguments():
    cy = _skinny_module()
    a, b = np.ones((2, 3)), np.ones((3, 4))
    with pytest.raises(ValueError, match=r"c: expected shape \(2, 4\)"):
        cy.skinny_gemm(a, b, np.empty((2, 5)))
    with pytest.raises(ValueError, match="isa: expected one of"):
        cy.skinny_gemm(a, b, np.empty((2, 4)), isa="neon")
    with pytest.raises(ValueError, match="shares no memory"):
        cy.skinny_gemm(a, np.ones((3, 3)), a)


@pytest.mark.requires_kernels
@pytest.mark.parametrize("name", ["lstm", "peephole", "gru", "gru_cho", "rnn_tanh"])
def test_sequence_kernels_equal_with_every_build_and_with_blas(name):
    """The sequence kernels' recurrent products through each micro-kernel build and through BLAS (rows=0) give the
    same layer outputs and gradients (float64: to rounding)."""
    cy = _skinny_module()
    builds = [isa for isa in cy.ISAS if cy.ISAS.index(isa) <= cy.ISAS.index(cy.skinny_isa())]
    results = {}
    old = cy.skinny_settings()
    try:
        for isa in builds + ["blas"]:
            if isa == "blas":
                cy.skinny_settings(rows=0)
            else:
                cy.skinny_settings(isa=isa, rows=64, nbytes=1 << 30)
                assert cy.skinny_settings()[0] == isa
            results[isa], _, runs = _both_paths(name, T=6, B=5, I=3, H=19, lengths=[6, 1, 3, 6, 2], loss_on="both",
                                                bidirectional=True)
            assert runs == 2
    finally:
        cy.skinny_settings(*old)
    for isa in builds:
        for got, want in zip(results[isa], results["blas"]):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13, err_msg=isa)
