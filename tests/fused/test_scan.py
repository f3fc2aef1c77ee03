"""Scan (the loop as one node) gives exactly the per-step tape's outputs and gradients."""
import numpy as np
import pytest

from tinygrad_rnn import Tensor, fused as F, where
from tinygrad_rnn.fused import Scan

F64 = np.float64
T, B, H = 6, 3, 4
STEPS = {  # name: (step Function, carried states, consts as (shape factory), options)
    "lstm": (F.LSTMStep, 2, [(4 * H, H)], {"act": "sigmoid"}),
    "lstm_hard": (F.LSTMStep, 2, [(4 * H, H)], {"act": "hard_sigmoid"}),
    "peephole": (F.PeepholeLSTMStep, 2, [(4 * H, H), (H,), (H,), (H,)], {"act": "sigmoid"}),
    "gru": (F.GRUStep, 1, [(3 * H, H), (3 * H,)], {"act": "sigmoid"}),
    "gru_nobias": (F.GRUStep, 1, [(3 * H, H)], {"act": "sigmoid"}),
    "gru_cho": (F.GRUChoStep, 1, [(2 * H, H), (H, H)], {"act": "sigmoid"}),
    "rnn_relu": (F.RNNStep, 1, [(H, H)], {"nonlinearity": "relu"}),
}
WIDTH = {F.LSTMStep: 4, F.PeepholeLSTMStep: 4, F.GRUStep: 3, F.GRUChoStep: 3, F.RNNStep: 1}


def leaves(rng, step, n_carry, consts):
    xs = Tensor(rng.standard_normal((T, B, WIDTH[step] * H)), requires_grad=True, dtype=F64)
    carry = [Tensor(rng.standard_normal((B, H)), requires_grad=True, dtype=F64) for _ in range(n_carry)]
    weights = [Tensor(rng.standard_normal(s) * 0.5, requires_grad=True, dtype=F64) for s in consts]
    return xs, carry, weights


def per_step(xs, carry, weights, step, options, reverse, masks):
    ys = [None] * T
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        out = step.apply(xs[t], *carry, *weights, **options)
        new = list(out) if isinstance(out, tuple) else [out]
        if masks is not None:
            new = [where(masks[t], n, c) for n, c in zip(new, carry)]
            ys[t] = where(masks[t], new[0], 0.0)
        else:
            ys[t] = new[0]
        carry = new
    from tinygrad_rnn import stack
    return [stack(ys, dim=0)] + carry


@pytest.mark.parametrize("lengths", [None, [6, 2, 4]], ids=["full", "lengths"])
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("name", list(STEPS))
def test_scan_equals_per_step_tape(rng, name, reverse, lengths):
    step, n_carry, consts, options = STEPS[name]
    masks = None if lengths is None else (np.arange(T)[:, None] < np.array(lengths)[None, :])[:, :, None]
    results = []
    for use_scan in (True, False):
        xs, carry, weights = leaves(np.random.default_rng(7), step, n_carry, consts)
        if use_scan:
            outs = Scan.apply(xs, *carry, *weights, step=step, n_carry=n_carry, reverse=reverse, masks=masks,
                              options=options)
        else:
            outs = per_step(xs, carry, weights, step, options, reverse, masks)
        g = np.random.default_rng(3)
        loss = sum((o * Tensor(g.standard_normal(o.shape), dtype=F64)).sum() for o in outs)
        loss.backward()
        results.append([o.data for o in outs] + [t.grad for t in [xs, *carry, *weights]])
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_scan_with_unused_outputs_and_no_grad_inputs(rng):
    xs, carry, weights = leaves(rng, F.LSTMStep, 2, [(4 * H, H)])
    ys, h, c = Scan.apply(xs.detach(), *carry, *weights, step=F.LSTMStep, n_carry=2, options={"act": "sigmoid"})
    c.sum().backward()                                   # only the final cell state is used
    assert xs.grad is None and carry[0].grad is not None and weights[0].grad.shape == (4 * H, H)
    assert np.isfinite(weights[0].grad).all()


@pytest.mark.parametrize("layer", ["RNN", "LSTM", "PeepholeLSTM", "GRU", "GRU-Cho"])
def test_every_fused_layer_records_its_loop_as_one_scan(layer, tape_ops):
    """One Scan per layer and direction, no per-step nodes (the Cho GRU's scan_step was once dead code)."""
    from tinygrad_rnn import nn
    cls = getattr(nn, layer.split("-")[0])
    kw = {"reset_after": False} if layer == "GRU-Cho" else {}
    module = cls(3, 4, num_layers=2, bidirectional=True, dtype=F64, **kw)
    out, _ = module(Tensor(np.random.default_rng(0).standard_normal((7, 2, 3)), dtype=F64))
    types = tape_ops(out)
    assert types.count("Scan") == 4, types
    assert not any(name.endswith("Step") for name in types), types


@pytest.mark.parametrize("scan", [True, False], ids=["scan", "per-step"])
@pytest.mark.parametrize("layer", ["RNN", "LSTM", "PeepholeLSTM", "GRU", "GRU-Cho"])
def test_retain_graph_through_a_layer(layer, scan):
    """backward(retain_graph=True) keeps every step's saved arrays (a Scan once freed them regardless): a second
    backward adds the same gradients again, and a third, after one without retain_graph, is PyTorch's error."""
    from tinygrad_rnn import nn
    cls = getattr(nn, layer.split("-")[0])
    kw = {"reset_after": False} if layer == "GRU-Cho" else {}
    module = cls(3, 4, num_layers=2, dtype=F64, **kw)
    module.scan = scan
    x = Tensor(np.random.default_rng(0).standard_normal((9, 2, 3)), dtype=F64, requires_grad=True)
    out, _ = module(x)
    loss = (out * out).sum()
    loss.backward(retain_graph=True)
    first = [x.grad.copy()] + [p.grad.copy() for p in module.parameters()]
    loss.backward()
    for got, once in zip([x.grad] + [p.grad for p in module.parameters()], first):
        np.testing.assert_allclose(got, 2 * once, rtol=1e-13, atol=1e-15)
    assert np.abs(first[1]).max() > 0
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        loss.backward()
