"""nn.LSTM(proj_size=P), LSTMP: torch.nn.LSTM's parameters, state_dict, numbers and gradients (fused, unfused, Scan
or step by step), and the rest of the layer interface torch scripts touch: all_weights, flatten_parameters,
hidden_size=0, dropout=1, a single tensor as an LSTM's hx."""
import warnings

import numpy as np
import pytest

from tinygrad_rnn import Tensor, gradcheck, manual_seed, nn

pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
F64 = np.float64
TOL = {np.float64: dict(rtol=1e-10, atol=1e-11), np.float32: dict(rtol=1e-5, atol=1e-5)}


def leaf(rng, shape, dtype=F64):
    return Tensor(rng.standard_normal(shape), requires_grad=True, dtype=dtype)


def run(layer, x, hx=None, lengths=None, weights=None, rng=None):
    """Forward, a random linear loss over output, h_n and c_n, backward -> (out, h_n, c_n, loss weights)."""
    out, (h, c) = layer(x, hx, lengths=lengths)
    if weights is None:
        weights = [rng.standard_normal(t.shape) for t in (out, h, c)]
    sum((t * Tensor(w, dtype=t.dtype)).sum() for t, w in zip((out, h, c), weights)).backward()
    return out, h, c, weights


def torch_copy(torch, ours, dtype, **kwargs):
    """torch.nn.LSTM with our layer's weights, loaded with strict=True."""
    ref = torch.nn.LSTM(ours.input_size, ours.hidden_size, num_layers=ours.num_layers, bias=ours.bias,
                        bidirectional=ours.bidirectional, proj_size=ours.proj_size, **kwargs)
    ref = ref.double() if dtype == np.float64 else ref
    ref.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()}, strict=True)
    return ref


@pytest.mark.parametrize("fused, scan", [(True, True), (True, False), (False, False)],
                         ids=["fused_scan", "fused_per_step", "unfused"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_matches_torch(rng, dtype, bidirectional, fused, scan, torch):
    ours = nn.LSTM(4, 6, num_layers=2, bidirectional=bidirectional, proj_size=3, fused=fused, dtype=dtype)
    ours.scan = scan
    ref = torch_copy(torch, ours, dtype)
    d = 2 if bidirectional else 1
    x, h0, c0 = leaf(rng, (9, 5, 4), dtype), leaf(rng, (2 * d, 5, 3), dtype), leaf(rng, (2 * d, 5, 6), dtype)
    xt, h0t, c0t = (torch.tensor(t.data, requires_grad=True) for t in (x, h0, c0))
    out, h, c, weights = run(ours, x, (h0, c0), rng=rng)
    assert out.shape == (9, 5, 3 * d) and h.shape == (2 * d, 5, 3) and c.shape == (2 * d, 5, 6)
    out_t, (h_t, c_t) = ref(xt, (h0t, c0t))
    sum((t * torch.tensor(w)).sum() for t, w in zip((out_t, h_t, c_t), weights)).backward()
    for a, b in zip((out, h, c), (out_t, h_t, c_t)):
        np.testing.assert_allclose(a.data, b.detach().numpy(), **TOL[dtype])
    for a, b in ((x, xt), (h0, h0t), (c0, c0t)):
        np.testing.assert_allclose(a.grad, b.grad.numpy(), **TOL[dtype])
    for k, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, getattr(ref, k).grad.numpy(), **TOL[dtype], err_msg=k)


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "unfused"])
def test_batch_first_no_bias_default_state_and_lengths_match_torch(rng, fused, torch):
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    ours = nn.LSTM(3, 5, num_layers=2, bias=False, batch_first=True, bidirectional=True, proj_size=2, fused=fused,
                   dtype=F64)
    assert [k for k, _ in ours.named_parameters()][:3] == ["weight_ih_l0", "weight_hh_l0", "weight_hr_l0"]
    ref = torch_copy(torch, ours, F64, batch_first=True)
    x = leaf(rng, (3, 6, 3))
    xt = torch.tensor(x.data, requires_grad=True)
    lengths = [6, 2, 4]
    out, h, c, weights = run(ours, x, lengths=lengths, rng=rng)
    packed, (h_t, c_t) = ref(pack_padded_sequence(xt, torch.tensor(lengths), batch_first=True, enforce_sorted=False))
    out_t, _ = pad_packed_sequence(packed, batch_first=True, total_length=6)
    sum((t * torch.tensor(w)).sum() for t, w in zip((out_t, h_t, c_t), weights)).backward()
    for a, b in zip((out, h, c), (out_t, h_t, c_t)):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for k, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, getattr(ref, k).grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=k)


def test_unbatched_input_matches_torch(rng, torch):
    ours = nn.LSTM(3, 4, proj_size=2, dtype=F64)
    ref = torch_copy(torch, ours, F64)
    x, h0, c0 = leaf(rng, (5, 3)), leaf(rng, (1, 2)), leaf(rng, (1, 4))
    out, (h, c) = ours(x, (h0, c0))
    out_t, (h_t, c_t) = ref(*(torch.tensor(t.data) for t in (x,)), (torch.tensor(h0.data), torch.tensor(c0.data)))
    assert out.shape == (5, 2) and h.shape == (1, 2) and c.shape == (1, 4)
    for a, b in zip((out, h, c), (out_t, h_t, c_t)):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_state_dict_round_trip_with_torch(rng, torch):
    """torch's weights load into ours (strict) and give torch's numbers; ours load back into torch (strict)."""
    torch.manual_seed(0)
    ref = torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2).double()
    ours = nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2, dtype=F64)
    result = ours.load_state_dict(ref.state_dict(), strict=True)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert list(ours.state_dict()) == list(ref.state_dict())
    x = rng.standard_normal((4, 2, 3))
    out, (h, c) = ours(Tensor(x))
    out_t, (h_t, c_t) = ref(torch.tensor(x))
    for a, b in zip((out, h, c), (out_t, h_t, c_t)):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-10, atol=1e-12)
    back = torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2).double()
    back.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()}, strict=True)
    for k, v in back.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), ref.state_dict()[k].numpy())


def test_a_plain_lstm_state_dict_does_not_load_into_a_projected_one():
    plain = nn.LSTM(3, 5, dtype=F64)
    projected = nn.LSTM(3, 5, proj_size=2, dtype=F64)
    with pytest.raises(Exception, match="weight_hh_l0|weight_hr_l0"):
        projected.load_state_dict(plain.state_dict(), strict=True)


def test_init_shapes_and_bound():
    manual_seed(0)
    layer = nn.LSTM(3, 16, num_layers=2, proj_size=4, dtype=F64)
    shapes = {k: p.shape for k, p in layer.named_parameters()}
    assert shapes == {"weight_ih_l0": (64, 3), "weight_hh_l0": (64, 4), "bias_ih_l0": (64,), "bias_hh_l0": (64,),
                      "weight_hr_l0": (4, 16), "weight_ih_l1": (64, 4), "weight_hh_l1": (64, 4),
                      "bias_ih_l1": (64,), "bias_hh_l1": (64,), "weight_hr_l1": (4, 16)}
    for k, p in layer.named_parameters():                    # torch: every weight U(±1/√hidden_size)
        assert np.abs(p.data).max() <= 0.25 and np.abs(p.data).max() > 0.2, k


@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
def test_fused_equals_unfused_with_lengths(bidirectional):
    results = []
    for fused in (True, False):
        manual_seed(3)
        layer = nn.LSTM(4, 5, num_layers=2, bidirectional=bidirectional, proj_size=3, fused=fused, dtype=F64)
        data = np.random.default_rng(0)
        d = 2 if bidirectional else 1
        x, h0, c0 = leaf(data, (6, 3, 4)), leaf(data, (2 * d, 3, 3)), leaf(data, (2 * d, 3, 5))
        out, h, c, _ = run(layer, x, (h0, c0), lengths=[6, 2, 4], rng=np.random.default_rng(1))
        results.append([out.data, h.data, c.data, x.grad, h0.grad, c0.grad] + [p.grad for p in layer.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


def test_scan_equals_one_node_per_step_with_lengths():
    results = []
    for scan in (True, False):
        manual_seed(4)
        layer = nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2, dtype=F64)
        layer.scan = scan
        x = leaf(np.random.default_rng(5), (5, 3, 3))
        out, h, c, _ = run(layer, x, lengths=[5, 2, 4], rng=np.random.default_rng(6))
        results.append([out.data, h.data, c.data, x.grad] + [p.grad for p in layer.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "unfused"])
def test_gradcheck(rng, fused):
    layer = nn.LSTM(2, 3, num_layers=2, bidirectional=True, proj_size=2, fused=fused, dtype=F64)
    x, h0, c0 = leaf(rng, (4, 2, 2)), leaf(rng, (4, 2, 2)), leaf(rng, (4, 2, 3))
    assert gradcheck(lambda *a: layer(x, (h0, c0), lengths=[4, 3]), [x, h0, c0, *layer.parameters()])


def test_only_c_n_in_the_loss_still_reaches_every_weight(rng):
    """A loss on c_n alone gives the last step no ∂h: its W_hr factor must still be there for the Scan to sum."""
    layer = nn.LSTM(3, 4, num_layers=2, proj_size=2, dtype=F64)
    x = leaf(rng, (5, 2, 3))
    _, (_, c) = layer(x)
    c.sum().backward()
    grads = {k: p.grad.copy() for k, p in layer.named_parameters()}
    layer.zero_grad()
    layer.scan = False
    x.grad = None
    _, (_, c) = layer(x)
    c.sum().backward()
    for k, p in layer.named_parameters():
        np.testing.assert_allclose(grads[k], p.grad, rtol=1e-12, atol=1e-14, err_msg=k)
    assert np.abs(grads["weight_hr_l0"]).sum() > 0       # layer 1's c_n depends on layer 0's projection


def test_return_gates_trace(rng):
    layer = nn.LSTM(3, 4, proj_size=2, dtype=F64)
    x = leaf(rng, (5, 2, 3))
    out, (h, c), traces = layer(x, return_gates=True)
    assert traces[0]["gates"].shape == (5, 2, 16) and traces[0]["c"].shape == (5, 2, 4)
    np.testing.assert_allclose(traces[0]["c"].data[-1], c.data[0], rtol=1e-14)
    gates = traces[0]["gates"].data[-1]
    o = gates[:, 12:]
    np.testing.assert_allclose(out.data[-1], (o * np.tanh(c.data[0])) @ layer.weight_hr_l0.data.T, rtol=1e-12)


def test_repr_and_attributes(torch):
    ours = nn.LSTM(3, 4, proj_size=2, num_layers=2, bidirectional=True)
    assert repr(ours) == repr(torch.nn.LSTM(3, 4, proj_size=2, num_layers=2, bidirectional=True))
    assert ours.proj_size == 2 and nn.LSTM(3, 4).proj_size == 0 and nn.GRU(3, 4).proj_size == 0


# ---- the rest of torch's layer interface ------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [dict(proj_size=2, bidirectional=True), dict(bias=False), dict()])
def test_all_weights_and_flat_weight_names_as_torch(kwargs, torch):
    ours = nn.LSTM(3, 4, num_layers=2, **kwargs)
    ref = torch.nn.LSTM(3, 4, num_layers=2, **kwargs)
    assert ours._flat_weights_names == ref._flat_weights_names
    assert ours._all_weights == ref._all_weights
    assert [[tuple(p.shape) for p in group] for group in ours.all_weights] == \
           [[tuple(p.shape) for p in group] for group in ref.all_weights]
    assert all(p is getattr(ours, name) for name, p in zip(ours._flat_weights_names, ours._flat_weights))
    assert ours.all_weights[0][0] is ours.weight_ih_l0


def test_all_weights_of_a_gru_and_a_peephole_lstm():
    gru = nn.GRU(3, 4)
    assert gru.all_weights == [[gru.weight_ih_l0, gru.weight_hh_l0, gru.bias_ih_l0, gru.bias_hh_l0]]
    peephole = nn.PeepholeLSTM(3, 4)
    assert [p.shape for p in peephole.all_weights[0]][-3:] == [(4,), (4,), (4,)]


def test_flatten_parameters_is_a_no_op(rng):
    layer = nn.LSTM(3, 4, proj_size=2, dtype=F64)
    before = {k: p.data.copy() for k, p in layer.named_parameters()}
    x = Tensor(rng.standard_normal((5, 2, 3)))
    out_before = layer(x)[0].data
    assert layer.flatten_parameters() is None
    for k, p in layer.named_parameters():
        np.testing.assert_array_equal(p.data, before[k])
    np.testing.assert_array_equal(layer(x)[0].data, out_before)


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU, nn.RNN, nn.PeepholeLSTM])
def test_sizes_refused_in_torch_words(cls, torch):
    name = cls.__name__
    for kwargs, error, words in [
            (dict(input_size=3, hidden_size=0), ValueError, "hidden_size must be greater than zero"),
            (dict(input_size=0, hidden_size=3), ValueError, "input_size must be greater than zero"),
            (dict(input_size=3, hidden_size=-2), ValueError, "hidden_size must be greater than zero"),
            (dict(input_size=3, hidden_size=4, num_layers=0), ValueError, "num_layers must be greater than zero"),
            (dict(input_size=3, hidden_size=4.0), TypeError, "hidden_size should be of type int, got: float")]:
        with pytest.raises(error, match=f"{name}: {words}"):
            cls(**kwargs)
        if cls is not nn.PeepholeLSTM:                     # the same exception and words as torch's
            with pytest.raises(error, match=words):
                getattr(torch.nn, name)(**kwargs)


def test_proj_size_refused_in_torch_words(torch):
    for proj_size, words in [(4, "proj_size has to be smaller than hidden_size"), (5, "proj_size has to be smaller"),
                             (-1, "proj_size should be a positive integer or zero to disable projections")]:
        with pytest.raises(ValueError, match=f"LSTM: {words}"):
            nn.LSTM(3, 4, proj_size=proj_size)
        with pytest.raises(ValueError, match=words):
            torch.nn.LSTM(3, 4, proj_size=proj_size)
    with pytest.raises(ValueError, match="proj_size should be a positive integer or zero.*got 1.5"):
        nn.LSTM(3, 4, proj_size=1.5)             # (torch: a TypeError from torch.empty)
    for name in ("RNN", "GRU"):
        with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM, not RNN or GRU"):
            getattr(torch.nn, name)(3, 4, proj_size=2)
        with pytest.raises(ValueError, match=f"{name}: proj_size argument is only supported for LSTM, not RNN or GRU"):
            getattr(nn, name)(3, 4, proj_size=2)
        assert getattr(nn, name)(3, 4, proj_size=0).proj_size == 0


def test_dropout_with_one_layer_warns_as_torch(torch):
    with pytest.warns(UserWarning) as ours:
        nn.LSTM(3, 4, dropout=1)
    with pytest.warns(UserWarning) as theirs:
        torch.nn.LSTM(3, 4, dropout=1)
    assert str(ours[0].message) == str(theirs[0].message)
    assert "but got dropout=1 and num_layers=1" in str(ours[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.LSTM(3, 4, num_layers=2, dropout=1)         # more than one layer: no warning
        nn.LSTM(3, 4, dropout=0.0)


@pytest.mark.parametrize("proj_size", [0, 2])
def test_dropout_one_between_layers_matches_torch_in_training(rng, proj_size, torch):
    """p = 1 zeroes layer 0's output entirely (no 0/0 nans): layer 1 sees zeros, layer 0 gets no gradient through
    the output, as torch computes in training mode."""
    ours = nn.LSTM(3, 4, num_layers=2, dropout=1.0, proj_size=proj_size, dtype=F64)
    ref = torch_copy(torch, ours, F64, dropout=1.0)
    ours.train()
    ref.train()
    x = leaf(rng, (5, 2, 3))
    xt = torch.tensor(x.data, requires_grad=True)
    out, h, c, weights = run(ours, x, rng=rng)
    out_t, (h_t, c_t) = ref(xt)
    sum((t * torch.tensor(w)).sum() for t, w in zip((out_t, h_t, c_t), weights)).backward()
    for a, b in zip((out, h, c), (out_t, h_t, c_t)):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert np.isfinite(x.grad).all()
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for k, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, getattr(ref, k).grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=k)
    np.testing.assert_array_equal(ours.weight_ih_l1.grad, 0)   # its input is all zeros


@pytest.mark.parametrize("batched", [True, False])
def test_a_single_tensor_as_an_lstm_hx_is_refused_as_such(batched):
    layer = nn.LSTM(3, 4, num_layers=2)
    x = Tensor(np.zeros((5, 2, 3) if batched else (5, 3), np.float32))
    h = Tensor(np.zeros((2, 2, 4) if batched else (2, 4), np.float32))    # two rows: list(h) would make a "pair"
    words = "For batched 3-D input" if batched else "For unbatched 2-D input"
    with pytest.raises(RuntimeError, match=rf"LSTM: expected hx to be a tuple \(h_0, c_0\).*single Tensor.*{words}"):
        layer(x, h)
    with pytest.raises(ValueError, match=r"LSTM: expected hx to be a tuple \(h_0, c_0\), but got a tuple of 1"):
        layer(x, (h,))
    with pytest.raises(RuntimeError, match=r"LSTMCell: expected hx to be a tuple \(h_0, c_0\).*single Tensor"):
        nn.LSTMCell(3, 4)(Tensor(np.zeros((2, 3), np.float32)), Tensor(np.zeros((2, 4), np.float32)))


def test_state_sizes_with_projection_are_checked():
    layer = nn.LSTM(3, 4, proj_size=2)
    x = Tensor(np.zeros((5, 2, 3), np.float32))
    z = lambda *s: Tensor(np.zeros(s, np.float32))  # noqa: E731
    with pytest.raises(ValueError, match=r"LSTM: Expected hx\[0\] size \(1, 2, 2\), got \(1, 2, 4\)"):
        layer(x, (z(1, 2, 4), z(1, 2, 4)))
    with pytest.raises(ValueError, match=r"LSTM: Expected hx\[1\] size \(1, 2, 4\), got \(1, 2, 2\)"):
        layer(x, (z(1, 2, 2), z(1, 2, 2)))


def test_onnx_export_refuses_a_projected_lstm(tmp_path):
    """ONNX's LSTM has no projection: exporting one would write a model that computes something else."""
    pytest.importorskip("onnx")
    from tinygrad_rnn import onnx as tg_onnx

    path = tmp_path / "lstmp.onnx"
    with pytest.raises(NotImplementedError, match=r"LSTM\(proj_size=2\) has no ONNX operator"):
        tg_onnx.export(nn.LSTM(3, 4, proj_size=2), np.zeros((5, 2, 3), np.float32), str(path))
    assert not path.exists()
