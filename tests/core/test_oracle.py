"""The hand-derived BPTT oracle: its gradients against finite differences of its own forward, its numbers against the
engine's sequence layers (fused and unfused), its input checks, and float32 against float64."""
import numpy as np
import pytest

from tinygrad_rnn import Tensor, nn, oracle

F64 = np.float64
HAS_C = ("lstm", "peephole")
GATES = {"rnn": 1, "lstm": 4, "peephole": 4, "gru": 3, "gru_cho": 3}
SIGMOID_GATES = {"rnn": [], "lstm": [0, 1, 3], "peephole": [0, 1, 3], "gru": [0, 1], "gru_cho": [0, 1]}


def make_params(rng, cell, I, H, bias=True, dtype=F64, scale=0.8):
    G = GATES[cell]
    shapes = {"weight_ih": (G * H, I), "weight_hh": (G * H, H), "bias_ih": (G * H,), "bias_hh": (G * H,)}
    if cell == "peephole":
        shapes.update(weight_ci=(H,), weight_cf=(H,), weight_co=(H,))
    p = {k: (scale * rng.standard_normal(s)).astype(dtype) for k, s in shapes.items()}
    if not bias:
        p.update(bias_ih=None, bias_hh=None)
    return p


def make_inputs(rng, cell, T, B, I, H, dtype=F64):
    x, h0 = rng.standard_normal((T, B, I)).astype(dtype), rng.standard_normal((B, H)).astype(dtype)
    return x, h0, (rng.standard_normal((B, H)).astype(dtype) if cell in HAS_C else None)


# ---------------------------------------------------------------------------------------------------------------
# 1. Gradients against central finite differences of the oracle's own forward.

def regime(cell, cache, nonlinearity):
    """Which piece of every piecewise-linear function (hard_sigmoid gates, relu) each step is on; reads the cache's
    A (the gate activations) and S (the states)."""
    if cell == "rnn":
        return cache.S > 0 if nonlinearity == "relu" else None
    gates = cache.A.reshape(cache.A.shape[:2] + (GATES[cell], -1))[:, :, SIGMOID_GATES[cell]]
    return np.stack([gates <= 0, gates >= 1])


FD_CASES = [(c, a, "tanh") for c in ("lstm", "peephole", "gru", "gru_cho") for a in ("sigmoid", "hard_sigmoid")]
FD_CASES += [("rnn", "sigmoid", "tanh"), ("rnn", "sigmoid", "relu")]
FD_IDS = [f"{cell}-{nonlin if cell == 'rnn' else act}" for cell, act, nonlin in FD_CASES]


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("lengths", [None, [4, 1, 3]], ids=["full", "lengths"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("cell,act,nonlin", FD_CASES, ids=FD_IDS)
def test_gradients_match_finite_differences(cell, act, nonlin, bias, lengths, reverse):
    rng = np.random.default_rng(7)
    T, B, I, H = 4, 3, 2, 3
    x, h0, c0 = make_inputs(rng, cell, T, B, I, H)
    params = make_params(rng, cell, I, H, bias, scale=1.5 if act == "hard_sigmoid" else 0.8)  # plateaus too
    Gy, Gh, Gc = rng.standard_normal((T, B, H)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    kw = dict(c0=c0, lengths=lengths, reverse=reverse, gate_activation=act, nonlinearity=nonlin)

    def loss():
        y, h_n, c_n, cache = oracle.forward(cell, x, h0, params, **kw)
        return np.sum(y * Gy) + np.sum(h_n * Gh) + (np.sum(c_n * Gc) if c_n is not None else 0.0), cache

    _, cache = loss()
    base = regime(cell, cache, nonlin)
    grads = oracle.backward(cache, Gy, Gh, Gc if cell in HAS_C else None)
    leaves = {"x": x, "h0": h0, **({"c0": c0} if cell in HAS_C else {}), **params}
    assert set(grads) == set(leaves)
    eps = 1e-6
    for name, a in leaves.items():
        if a is None:
            assert grads[name] is None
            continue
        fd = np.empty_like(a)
        for i in np.ndindex(a.shape):
            old = a[i]
            a[i] = old + eps
            plus, c_plus = loss()
            a[i] = old - eps
            minus, c_minus = loss()
            a[i] = old
            if base is not None:  # no kink of hard_sigmoid / relu lies between the two evaluations
                assert np.array_equal(regime(cell, c_plus, nonlin), base), (name, i)
                assert np.array_equal(regime(cell, c_minus, nonlin), base), (name, i)
            fd[i] = (plus - minus) / (2 * eps)
        np.testing.assert_allclose(grads[name], fd, rtol=1e-6, atol=1e-8, err_msg=name)
    if lengths is not None:  # padded steps: zero output, no gradient to their input
        y = oracle.forward(cell, x, h0, params, **kw)[0]
        pad = np.arange(T)[:, None] >= np.asarray(lengths)
        assert np.all(y[pad] == 0) and np.all(grads["x"][pad] == 0)


# ---------------------------------------------------------------------------------------------------------------
# 2. Against the engine's sequence layers (the tape's BPTT), float64, relative 1e-10.

LAYERS = {"rnn": (nn.RNN, {}), "lstm": (nn.LSTM, {}), "peephole": (nn.PeepholeLSTM, {}), "gru": (nn.GRU, {}),
          "gru_cho": (nn.GRU, {"reset_after": False})}


def assert_close(a, b, what):
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12 * max(1.0, np.abs(b).max(initial=0)), err_msg=what)


def compare_layer(cell, T, B, lengths, fused, bidirectional=False, bias=True, act="sigmoid", nonlin="tanh", seed=0):
    rng = np.random.default_rng(seed)
    I, H = 4, 5
    cls, kwargs = LAYERS[cell]
    if act != "sigmoid":
        kwargs = {**kwargs, "gate_activation": act}
    if nonlin != "tanh":
        kwargs = {**kwargs, "nonlinearity": nonlin}
    layer = cls(I, H, bias=bias, bidirectional=bidirectional, fused=fused, **kwargs).double()
    for p in layer.parameters():  # full float64 mantissas, not the float32 initialisation
        p.data = rng.uniform(-0.7, 0.7, p.shape)
    D = 2 if bidirectional else 1
    x, h0, c0 = (Tensor(rng.standard_normal(s), requires_grad=True, dtype=F64) for s in [(T, B, I)] + [(D, B, H)] * 2)
    out, state = layer(x, (h0, c0) if cell in HAS_C else h0, lengths=lengths)
    states = list(state) if cell in HAS_C else [state]
    weights = [rng.standard_normal(t.shape) for t in [out, *states]]
    sum((t * Tensor(w, dtype=F64)).sum() for t, w in zip([out, *states], weights)).backward()

    dx = np.zeros((T, B, I))
    for d in range(D):
        suffix = "_l0" + ("_reverse" if d else "")
        named = {n[:-len(suffix)]: p for n, p in layer.named_parameters() if n.endswith(suffix)}
        params = {n: p.data for n, p in named.items()}
        if not bias:
            params.update(bias_ih=None, bias_hh=None)
        y, h_n, c_n, cache = oracle.forward(cell, x.data, h0.data[d], params, c0=c0.data[d] if cell in HAS_C else None,
                                            lengths=lengths, reverse=bool(d), gate_activation=act, nonlinearity=nonlin)
        assert_close(out.data[:, :, d * H:(d + 1) * H], y, f"output{suffix}")
        assert_close(states[0].data[d], h_n, f"h_n{suffix}")
        grads = oracle.backward(cache, weights[0][:, :, d * H:(d + 1) * H], weights[1][d],
                                weights[2][d] if cell in HAS_C else None)
        if cell in HAS_C:
            assert_close(states[1].data[d], c_n, f"c_n{suffix}")
            assert_close(c0.grad[d], grads["c0"], f"c0.grad{suffix}")
        assert_close(h0.grad[d], grads["h0"], f"h0.grad{suffix}")
        for n, p in named.items():
            assert_close(p.grad, grads[n], f"{n}{suffix}.grad")
        dx += grads["x"]
    assert_close(x.grad, dx, "x.grad")


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "unfused"])
@pytest.mark.parametrize("cell", list(LAYERS))
@pytest.mark.parametrize("with_lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("B", [1, 3])
@pytest.mark.parametrize("T", [1, 2, 7, 50])
def test_matches_layer(T, B, with_lengths, cell, fused):
    lengths = [max(1, T - 1), T, 1][:B] if with_lengths else None
    compare_layer(cell, T, B, lengths, fused)


VARIANTS = [("rnn", dict(nonlin="relu")), ("rnn", dict(bias=False))]
VARIANTS += [(c, dict(act="hard_sigmoid")) for c in ("lstm", "peephole", "gru", "gru_cho")]
VARIANTS += [(c, dict(bias=False)) for c in ("lstm", "peephole", "gru", "gru_cho")]
VARIANTS += [(c, dict(bidirectional=True)) for c in LAYERS]


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "unfused"])
@pytest.mark.parametrize("cell,options", VARIANTS, ids=[f"{c}-{'-'.join(map(str, o.values()))}" for c, o in VARIANTS])
def test_matches_layer_variants(cell, options, fused):
    """relu, hard_sigmoid gates, no biases and the reverse direction of a bidirectional layer (oracle reverse=True)."""
    compare_layer(cell, 7, 3, [5, 7, 2], fused, seed=1, **options)


# ---------------------------------------------------------------------------------------------------------------
# 3. Bad input names the argument.

def test_bad_input(rng):
    x, h0, c0 = make_inputs(rng, "lstm", 3, 2, 4, 5)
    p = make_params(rng, "lstm", 4, 5)
    f32 = {**p, "weight_hh": p["weight_hh"].astype(np.float32)}
    bad = [
        (ValueError, "cell must be one of", dict(cell="elman")),
        (ValueError, "gate_activation", dict(gate_activation="relu")),
        (ValueError, "nonlinearity", dict(nonlinearity="relu")),  # relu is for the rnn cell only
        (ValueError, "x: expected a \\(T, B, I\\)", dict(x=x[0])),
        (ValueError, "x: expected a \\(T, B, I\\)", dict(x=x.tolist())),
        (TypeError, "x: expected float32 or float64", dict(x=x.astype(np.int64))),
        (ValueError, "h0: expected a \\(B, H\\)", dict(h0=h0[:1])),
        (TypeError, "h0: expected dtype float64", dict(h0=h0.astype(np.float32))),
        (ValueError, "c0: expected shape", dict(c0=c0[:, :2])),
        (TypeError, "c0: expected dtype float64", dict(c0=c0.astype(np.float32))),
        (ValueError, "weight_ih: expected shape \\(20, 4\\)", dict(params={**p, "weight_ih": p["weight_ih"].T})),
        (ValueError, "bias_hh: expected shape", dict(params={**p, "bias_hh": p["bias_hh"][:5]})),
        (TypeError, "weight_hh: expected dtype float64", dict(params=f32)),
        (TypeError, "weight_hh: expected a numpy array", dict(params={**p, "weight_hh": p["weight_hh"].tolist()})),
        (ValueError, "params: missing 'weight_hh'", dict(params={k: v for k, v in p.items() if k != "weight_hh"})),
        (ValueError, "params: unexpected \\['weight_ci'\\]", dict(params={**p, "weight_ci": h0[0]})),
        (ValueError, "lengths: must be in \\[1, 3\\]", dict(lengths=[0, 3])),
        (ValueError, "lengths: must be in \\[1, 3\\]", dict(lengths=[4, 3])),
        (ValueError, "lengths: expected 2 integers", dict(lengths=[1, 2, 3])),
        (ValueError, "lengths: expected 2 integers", dict(lengths=[1.5, 2.0])),
    ]
    for error, match, change in bad:
        args = dict(cell="lstm", x=x, h0=h0, params=p, c0=c0) | change
        with pytest.raises(error, match=match):
            oracle.forward(args.pop("cell"), args.pop("x"), args.pop("h0"), args.pop("params"), **args)
    with pytest.raises(ValueError, match="c0: cell 'gru' has no memory cell"):
        oracle.forward("gru", x, h0, make_params(rng, "gru", 4, 5), c0=c0)
    cache = oracle.forward("lstm", x, h0, p, c0=c0)[3]
    with pytest.raises(ValueError, match="dy: expected shape"):
        oracle.backward(cache, dy=np.zeros((3, 2, 4)))
    with pytest.raises(TypeError, match="dh_n: expected dtype float64"):
        oracle.backward(cache, dh_n=np.zeros((2, 5), np.float32))
    with pytest.raises(ValueError, match="dc_n: expected shape"):
        oracle.backward(cache, dc_n=np.zeros((5,)))
    with pytest.raises(ValueError, match="dc_n: cell 'gru' has no memory cell"):
        oracle.backward(oracle.forward("gru", x, h0, make_params(rng, "gru", 4, 5))[3], dc_n=np.zeros((2, 5)))


# ---------------------------------------------------------------------------------------------------------------
# 4. float32 against float64; inputs are never written to; backward can be repeated.

@pytest.mark.parametrize("cell", oracle.CELLS)
def test_float32_matches_float64_and_inputs_untouched(rng, cell):
    T, B, I, H = 6, 3, 4, 5
    x, h0, c0 = make_inputs(rng, cell, T, B, I, H)
    params = make_params(rng, cell, I, H, scale=0.5)
    dy, dh, dc = rng.standard_normal((T, B, H)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    dc = dc if cell in HAS_C else None
    results = []
    for dtype in (np.float64, np.float32):
        cast = lambda a: None if a is None else a.astype(dtype)  # noqa: E731
        args = [cast(a) for a in (x, h0, c0, dy, dh, dc)] + [{k: cast(v) for k, v in params.items()}]
        saved = [None if a is None else a.copy() for a in args[:6]] + [{k: v.copy() for k, v in args[6].items()}]
        for reverse in (False, True):
            y, h_n, c_n, cache = oracle.forward(cell, args[0], args[1], args[6], c0=args[2], lengths=[6, 2, 5],
                                                reverse=reverse)
            grads = oracle.backward(cache, *args[3:6])
            again = oracle.backward(cache, *args[3:6])
            assert all(np.array_equal(grads[k], again[k]) for k in grads)
            assert y.dtype == h_n.dtype == dtype and all(g.dtype == dtype for g in grads.values())
            results.append([y, h_n] + ([c_n] if c_n is not None else []) + [grads[k] for k in sorted(grads)])
        for a, b in zip(args[:6], saved[:6]):
            assert a is None or np.array_equal(a, b)
        assert all(np.array_equal(args[6][k], saved[6][k]) for k in params)
    half = len(results) // 2
    for r64, r32 in zip(results[:half], results[half:]):
        for a, b in zip(r64, r32):
            np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-4)


def test_defaults(rng):
    """c0=None is zeros, absent biases are None biases (and get no gradient key), no upstream gradient is zeros."""
    x, h0, c0 = make_inputs(rng, "lstm", 5, 2, 3, 4)
    p = make_params(rng, "lstm", 3, 4, bias=False)
    y, h_n, c_n, cache = oracle.forward("lstm", x, h0, p)
    y0, h_n0, c_n0, cache0 = oracle.forward("lstm", x, h0, {"weight_ih": p["weight_ih"], "weight_hh": p["weight_hh"]},
                                            c0=np.zeros_like(c0))
    assert np.array_equal(y, y0) and np.array_equal(h_n, h_n0) and np.array_equal(c_n, c_n0)
    dy = rng.standard_normal(y.shape)
    grads, grads0 = oracle.backward(cache, dy), oracle.backward(cache0, dy, np.zeros_like(h0), np.zeros_like(c0))
    assert grads["bias_ih"] is None and grads["bias_hh"] is None and "bias_ih" not in grads0
    assert all(np.array_equal(grads0[k], grads[k]) for k in grads0)
    assert all(not np.any(g) for g in oracle.backward(cache).values() if g is not None)
