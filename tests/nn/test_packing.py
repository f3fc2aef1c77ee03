"""nn.utils.rnn against torch.nn.utils.rnn: pad_sequence, pack_padded_sequence (sorted and not), pad_packed_sequence,
pack_sequence, unpack/unpad, their gradients and messages; and PackedSequence through every recurrent layer (outputs,
h_n, c_n and all gradients equal torch's; the layers without a torch twin equal their own lengths= path)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tinygrad_rnn import Tensor, manual_seed, nn
from tinygrad_rnn.nn.utils.rnn import (PackedSequence, pack_padded_sequence, pack_sequence, pad_packed_sequence,
                                       pad_sequence, unpack_sequence, unpad_sequence)

pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
F64 = np.float64
EXACT = dict(rtol=0, atol=0)


def leaf(rng, shape, dtype=F64):
    return Tensor(rng.standard_normal(shape), requires_grad=True, dtype=dtype)


def as_torch(torch, t):
    return torch.tensor(t.data, requires_grad=True)


def backward_both(torch, ours, theirs, rng):
    """The same random linear loss on our tensor and torch's, backward on each."""
    w = rng.standard_normal(ours.shape)
    (ours * Tensor(w, dtype=ours.dtype)).sum().backward()
    (theirs * torch.tensor(w)).sum().backward()


def assert_same_packing(ours, theirs):
    assert isinstance(ours, PackedSequence)
    np.testing.assert_array_equal(ours.batch_sizes.data, theirs.batch_sizes.numpy())
    assert ours.batch_sizes.dtype == np.int64
    for a, b in ((ours.sorted_indices, theirs.sorted_indices), (ours.unsorted_indices, theirs.unsorted_indices)):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a.data, b.numpy())


# ---- pad_sequence ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_sequence_matches_torch_with_gradients(rng, batch_first, padding_side, torch):
    from torch.nn.utils.rnn import pad_sequence as torch_pad

    seqs = [leaf(rng, (n, 2, 3)) for n in (3, 5, 1, 5)]
    tseqs = [as_torch(torch, s) for s in seqs]
    out = pad_sequence(seqs, batch_first=batch_first, padding_value=-2.5, padding_side=padding_side)
    ref = torch_pad(tseqs, batch_first=batch_first, padding_value=-2.5, padding_side=padding_side)
    assert out.shape == tuple(ref.shape)
    np.testing.assert_array_equal(out.data, ref.detach().numpy())
    backward_both(torch, out, ref, rng)
    for s, ts in zip(seqs, tseqs):
        np.testing.assert_array_equal(s.grad, ts.grad.numpy())


def test_pad_sequence_of_token_ids_and_of_a_tensor_as_torch(torch):
    from torch.nn.utils.rnn import pad_sequence as torch_pad

    ids = [Tensor(np.array(v, dtype=np.int64)) for v in ([4, 2, 7], [1], [3, 3])]
    out = pad_sequence(ids, batch_first=True, padding_value=-1)
    ref = torch_pad([torch.tensor(v.data) for v in ids], batch_first=True, padding_value=-1)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.data, ref.numpy())
    stacked = Tensor(np.arange(24.0).reshape(3, 2, 4), dtype=F64)       # a tensor: its rows are the sequences
    np.testing.assert_array_equal(pad_sequence(stacked).data, torch_pad(torch.tensor(stacked.data)).numpy())


def test_pad_sequence_refusals(torch):
    from torch.nn.utils.rnn import pad_sequence as torch_pad

    for args, kwargs, error, words in [(([],), {}, RuntimeError, "received an empty list of sequences"),
                                       (None, dict(padding_side="middle"), RuntimeError,
                                        "Expected padding_side to be one of left or right, but got middle.")]:
        seqs = args[0] if args else [Tensor(np.ones((2, 3))), Tensor(np.ones((1, 3)))]
        with pytest.raises(error, match=words):
            pad_sequence(seqs, **kwargs)
        with pytest.raises(error, match=words):
            torch_pad([torch.tensor(s.data) for s in seqs], **kwargs)
    with pytest.raises(ValueError, match=r"every sequence of size \(L, 3\) as sequences\[0\], but got "
                                         r"sequences\[1\] of size \(4, 2\)"):
        pad_sequence([Tensor(np.ones((2, 3))), Tensor(np.ones((4, 2)))])
    with pytest.raises(TypeError, match=r"dtype float32 as sequences\[0\], but got sequences\[1\] of dtype float64"):
        pad_sequence([Tensor(np.ones((2, 3), np.float32)), Tensor(np.ones((4, 3)))])
    with pytest.raises(TypeError, match="expected Tensor as element 1 in argument 0, but got int"):
        pad_sequence([Tensor(np.ones(2)), 3])


# ---- pack_padded_sequence, pad_packed_sequence --------------------------------------------------------------------
CASES = [([5, 3, 3, 1], True), ([3, 5, 1, 3], False), ([2, 2, 2, 2], True), ([1, 4, 4, 2], False), ([4], True)]


@pytest.mark.parametrize("lengths, enforce_sorted", CASES)
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_padded_sequence_matches_torch_with_gradients(rng, lengths, enforce_sorted, batch_first, torch):
    from torch.nn.utils import rnn as trnn

    batch = len(lengths)
    x = leaf(rng, (batch, 6, 3) if batch_first else (6, batch, 3))
    xt = as_torch(torch, x)
    forms = [pack_padded_sequence(x, form, batch_first=batch_first, enforce_sorted=enforce_sorted)
             for form in (Tensor(np.array(lengths)), lengths, np.array(lengths))]    # int64 tensor, list, ndarray
    packed = forms[0]
    for other in forms[1:]:
        np.testing.assert_array_equal(other.data.data, packed.data.data)
        np.testing.assert_array_equal(other.batch_sizes.data, packed.batch_sizes.data)
    ref = trnn.pack_padded_sequence(xt, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=enforce_sorted)
    assert_same_packing(packed, ref)
    np.testing.assert_array_equal(packed.data.data, ref.data.detach().numpy())
    backward_both(torch, packed.data, ref.data, rng)
    np.testing.assert_array_equal(x.grad, xt.grad.numpy())                # zero on the padding


@pytest.mark.parametrize("lengths, enforce_sorted", CASES)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("total_length", [None, 7])
def test_pad_packed_sequence_matches_torch_with_gradients(rng, lengths, enforce_sorted, batch_first, total_length,
                                                          torch):
    from torch.nn.utils import rnn as trnn

    x = leaf(rng, (max(lengths), len(lengths), 2))
    xt = as_torch(torch, x)
    packed = pack_padded_sequence(x, lengths, enforce_sorted=enforce_sorted)
    ref = trnn.pack_padded_sequence(xt, torch.tensor(lengths), enforce_sorted=enforce_sorted)
    out, out_lengths = pad_packed_sequence(packed, batch_first=batch_first, padding_value=9.0,
                                           total_length=total_length)
    ref_out, ref_lengths = trnn.pad_packed_sequence(ref, batch_first=batch_first, padding_value=9.0,
                                                    total_length=total_length)
    assert out.shape == tuple(ref_out.shape)
    np.testing.assert_array_equal(out.data, ref_out.detach().numpy())
    assert out_lengths.dtype == np.int64
    np.testing.assert_array_equal(out_lengths.data, ref_lengths.numpy())
    backward_both(torch, out, ref_out, rng)
    np.testing.assert_array_equal(x.grad, xt.grad.numpy())


@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_sequence_and_unpack_match_torch(rng, enforce_sorted, torch):
    from torch.nn.utils import rnn as trnn

    seqs = [leaf(rng, (n, 3)) for n in ((4, 4, 2, 1) if enforce_sorted else (2, 4, 1, 4))]
    tseqs = [as_torch(torch, s) for s in seqs]
    packed = pack_sequence(seqs, enforce_sorted=enforce_sorted)
    ref = trnn.pack_sequence(tseqs, enforce_sorted=enforce_sorted)
    assert_same_packing(packed, ref)
    np.testing.assert_array_equal(packed.data.data, ref.data.detach().numpy())
    back, tback = unpack_sequence(packed), trnn.unpack_sequence(ref)
    for s, b, tb in zip(seqs, back, tback):
        np.testing.assert_array_equal(b.data, tb.detach().numpy())
        np.testing.assert_array_equal(b.data, s.data)
    backward_both(torch, packed.data, ref.data, rng)
    for s, ts in zip(seqs, tseqs):
        np.testing.assert_array_equal(s.grad, ts.grad.numpy())


@pytest.mark.parametrize("batch_first", [False, True])
def test_unpad_sequence_matches_torch(rng, batch_first, torch):
    from torch.nn.utils import rnn as trnn

    x = leaf(rng, (3, 5, 2) if batch_first else (5, 3, 2))
    lengths = [5, 2, 3]
    ours = unpad_sequence(x, Tensor(np.array(lengths)), batch_first=batch_first)
    theirs = trnn.unpad_sequence(torch.tensor(x.data), torch.tensor(lengths), batch_first=batch_first)
    assert [o.shape for o in ours] == [tuple(t.shape) for t in theirs]
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.data, t.numpy())


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_pack_then_pad_gives_the_masked_batch_for_any_lengths(data):
    """Any batch, lengths and layout: pad(pack(x)) is x with zeros after each end, its gradient that mask, and
    unpack_sequence gives each sequence back."""
    batch, steps = data.draw(st.integers(1, 6), label="batch"), data.draw(st.integers(1, 7), label="steps")
    lengths = data.draw(st.lists(st.integers(1, steps), min_size=batch, max_size=batch), label="lengths")
    batch_first = data.draw(st.booleans(), label="batch_first")
    seq_major = np.random.default_rng(len(lengths) * 10 + steps).standard_normal((steps, batch, 2))
    x = Tensor(seq_major.transpose(1, 0, 2) if batch_first else seq_major, requires_grad=True, dtype=F64)
    packed = pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
    assert packed.data.shape == (sum(lengths), 2) and packed.batch_sizes.data.sum() == sum(lengths)
    out, out_lengths = pad_packed_sequence(packed, batch_first=batch_first, total_length=steps)
    mask = (np.arange(steps)[:, None] < np.array(lengths)[None, :])[..., None]    # (T, B, 1)
    mask = mask.transpose(1, 0, 2) if batch_first else mask
    np.testing.assert_array_equal(out.data, np.where(mask, x.data, 0))
    np.testing.assert_array_equal(out_lengths.data, lengths)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, np.broadcast_to(mask, x.shape).astype(F64))
    for b, seq in enumerate(unpack_sequence(packed)):
        np.testing.assert_array_equal(seq.data, seq_major[:lengths[b], b])


def test_packing_refusals_in_torch_words(torch):
    from torch.nn.utils import rnn as trnn

    x = Tensor(np.zeros((5, 2, 3)), dtype=F64)
    xt = torch.zeros(5, 2, 3)
    for lengths, kwargs in [([2, 5], {}), ([5, 0], {}), ([0, 5], dict(enforce_sorted=False)), ([5, 4, 3], {}),
                            ([[5, 4]], {})]:
        with pytest.raises(RuntimeError) as theirs:
            trnn.pack_padded_sequence(xt, torch.tensor(lengths), **kwargs)
        with pytest.raises(RuntimeError) as ours:
            pack_padded_sequence(x, lengths, **kwargs)
        words = str(theirs.value).split(", but got")[0]     # ours says what it got in its own dtype words
        assert str(ours.value).startswith(words), (str(ours.value), str(theirs.value))
    with pytest.raises(RuntimeError) as theirs:
        trnn.pack_sequence([torch.ones(2, 3), torch.ones(4, 3)])
    with pytest.raises(RuntimeError) as ours:
        pack_sequence([Tensor(np.ones((2, 3))), Tensor(np.ones((4, 3)))])
    assert str(ours.value) == str(theirs.value)
    packed = pack_padded_sequence(x, [5, 3])
    with pytest.raises(ValueError) as ours:
        pad_packed_sequence(packed, total_length=3)
    with pytest.raises(ValueError) as theirs:
        trnn.pad_packed_sequence(trnn.pack_padded_sequence(xt, torch.tensor([5, 3])), total_length=3)
    assert str(ours.value) == str(theirs.value)


def test_packing_refuses_what_torch_gets_silently_wrong():
    x = Tensor(np.zeros((5, 2, 3)), dtype=F64)
    # torch packs lengths beyond T from memory past the input (batch_sizes of length 6 for T = 5), and truncates 4.5
    with pytest.raises(ValueError, match=r"lengths must be at most the sequence length 5 \(dimension 0 of input of "
                                         r"shape \(5, 2, 3\)\), but got \[6, 5\]"):
        pack_padded_sequence(x, [6, 5])
    with pytest.raises(ValueError, match=r"lengths must be at most the sequence length 5 \(dimension 1"):
        pack_padded_sequence(Tensor(np.zeros((2, 5, 3))), [2, 6], batch_first=True, enforce_sorted=False)
    with pytest.raises(ValueError, match=r"lengths must be whole numbers, but got \[4.5, 2.0\]"):
        pack_padded_sequence(x, [4.5, 2])
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        pack_padded_sequence(Tensor(np.zeros(5)), [5])
    with pytest.raises(TypeError, match="pad_packed_sequence: expected sequence to be a PackedSequence, but got "
                                        "Tensor"):
        pad_packed_sequence(x)


# ---- PackedSequence ----------------------------------------------------------------------------------------------
def test_packed_sequence_fields_methods_and_construction(rng, torch):
    x = leaf(rng, (4, 3, 2))
    packed = pack_padded_sequence(x, [2, 4, 3], enforce_sorted=False)
    data, batch_sizes, sorted_indices, unsorted_indices = packed               # a named tuple, as torch's
    assert PackedSequence._fields == torch.nn.utils.rnn.PackedSequence._fields
    assert data is packed.data and packed.is_cuda is False and packed.is_pinned() is False and packed.cpu() is packed
    assert packed.double() is packed and packed.to("cpu") is packed
    single = packed.float()
    assert single.data.dtype == np.float32 and single.batch_sizes is packed.batch_sizes
    assert single.sorted_indices is packed.sorted_indices
    (single.data * 2).sum().backward()                                 # the cast is on the tape
    assert x.grad.dtype == F64 and x.grad.sum() == 2 * 9 * 2     # 9 steps in all, 2 features
    rebuilt = PackedSequence(data, batch_sizes, sorted_indices)        # unsorted_indices from sorted_indices
    np.testing.assert_array_equal(rebuilt.unsorted_indices.data, unsorted_indices.data)
    assert rebuilt.sorted_indices.dtype == np.int64 and rebuilt.unsorted_indices.dtype == np.int64


def test_packed_sequence_construction_is_checked():
    data = Tensor(np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"data must have sum\(batch_sizes\) = 4 rows, but got data of shape \(5, 2\)"):
        PackedSequence(data, Tensor(np.array([2, 1, 1])))
    with pytest.raises(ValueError, match=r"batch_sizes must be positive and non-increasing, but got \[2, 3\]"):
        PackedSequence(data, Tensor(np.array([2, 3])))
    with pytest.raises(ValueError, match=r"sorted_indices must be a permutation of range\(3\)"):
        PackedSequence(data, Tensor(np.array([3, 2])), Tensor(np.array([0, 0, 1])))
    with pytest.raises(TypeError, match="batch_sizes to be a 1-D integer tensor, but got 1-D of dtype float32"):
        PackedSequence(data, Tensor([3.0, 2.0]))
    with pytest.raises(ValueError, match=r"unsorted_indices must be the inverse of sorted_indices, but got \[1, 2, 0\] "
                                         r"for \[1, 2, 0\]"):
        PackedSequence(data, Tensor(np.array([3, 2])), Tensor(np.array([1, 2, 0])), Tensor(np.array([1, 2, 0])))
    with pytest.raises(TypeError, match="batch_sizes is required"):
        PackedSequence(data)
    only_unsorted = PackedSequence(data, Tensor(np.array([3, 2])), None, Tensor(np.array([2, 0, 1])))
    np.testing.assert_array_equal(only_unsorted.sorted_indices.data, [1, 2, 0])


# ---- PackedSequence through the layers -----------------------------------------------------------------------------
TORCH_LAYERS = {
    "RNN": (nn.RNN, {}), "RNN_relu": (nn.RNN, {"nonlinearity": "relu"}), "LSTM": (nn.LSTM, {}),
    "LSTM_proj": (nn.LSTM, {"proj_size": 3}), "GRU": (nn.GRU, {}),
}


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "unfused"])
@pytest.mark.parametrize("enforce_sorted", [True, False], ids=["sorted", "unsorted"])
@pytest.mark.parametrize("name", list(TORCH_LAYERS))
def test_layers_take_and_return_packed_sequences_as_torch(rng, name, enforce_sorted, fused, torch):
    from torch.nn.utils import rnn as trnn

    cls, kwargs = TORCH_LAYERS[name]
    ours = cls(3, 5, num_layers=2, bidirectional=True, fused=fused, dtype=F64, **kwargs)
    ref = getattr(torch.nn, name.split("_")[0])(3, 5, num_layers=2, bidirectional=True, **kwargs).double()
    ref.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()}, strict=True)
    lengths = [6, 4, 4, 1] if enforce_sorted else [4, 6, 1, 4]
    h_size = kwargs.get("proj_size", 5)
    x, h0, c0 = leaf(rng, (6, 4, 3)), leaf(rng, (4, 4, h_size)), leaf(rng, (4, 4, 5))
    xt, h0t, c0t = (as_torch(torch, t) for t in (x, h0, c0))
    has_c = name.startswith("LSTM")
    packed = pack_padded_sequence(x, lengths, enforce_sorted=enforce_sorted)
    out, state = ours(packed, (h0, c0) if has_c else h0)             # h0 in the caller's batch order, as torch
    ref_out, ref_state = ref(trnn.pack_padded_sequence(xt, torch.tensor(lengths), enforce_sorted=enforce_sorted),
                             (h0t, c0t) if has_c else h0t)
    assert_same_packing(out, ref_out)
    states, ref_states = (list(state), list(ref_state)) if has_c else ([state], [ref_state])
    for a, b in zip([out.data, *states], [ref_out.data, *ref_states]):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-10, atol=1e-12)
    weights = [rng.standard_normal(t.shape) for t in [out.data, *states]]
    sum((t * Tensor(w, dtype=F64)).sum() for t, w in zip([out.data, *states], weights)).backward()
    sum((t * torch.tensor(w)).sum() for t, w in zip([ref_out.data, *ref_states], weights)).backward()
    for a, b in [(x, xt), (h0, h0t)] + ([(c0, c0t)] if has_c else []):
        np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-10, atol=1e-12)
    for k, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, getattr(ref, k).grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_packed_float32_and_batch_first_layers_match_torch(rng, name, torch):
    """batch_first changes nothing for packed input (torch's rule too); float32 to 1e-5."""
    from torch.nn.utils import rnn as trnn

    ours = getattr(nn, name)(3, 4, batch_first=True)
    ref = getattr(torch.nn, name)(3, 4, batch_first=True)
    ref.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()}, strict=True)
    seqs = [leaf(rng, (n, 3), np.float32) for n in (2, 5, 3)]
    tseqs = [as_torch(torch, s) for s in seqs]
    out, state = ours(pack_sequence(seqs, enforce_sorted=False))
    ref_out, ref_state = ref(trnn.pack_sequence(tseqs, enforce_sorted=False))
    padded, lengths = pad_packed_sequence(out, batch_first=True)
    ref_padded, ref_lengths = trnn.pad_packed_sequence(ref_out, batch_first=True)
    np.testing.assert_array_equal(lengths.data, ref_lengths.numpy())
    h, h_t = (state[0], ref_state[0]) if name == "LSTM" else (state, ref_state)
    for a, b in ((padded, ref_padded), (h, h_t)):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-5, atol=1e-6)
    backward_both(torch, padded, ref_padded, rng)
    for s, ts in zip(seqs, tseqs):
        np.testing.assert_allclose(s.grad, ts.grad.numpy(), rtol=1e-5, atol=1e-6)


OWN_LAYERS = {
    "PeepholeLSTM": lambda: nn.PeepholeLSTM(3, 4, num_layers=2, bidirectional=True, dtype=F64),
    "GRU_cho": lambda: nn.GRU(3, 4, num_layers=2, bidirectional=True, reset_after=False, dtype=F64),
    "LSTM_hard_sigmoid": lambda: nn.LSTM(3, 4, num_layers=2, gate_activation="hard_sigmoid", dtype=F64),
    "DepthGatedLSTM": lambda: nn.DepthGatedLSTM(3, 4, num_layers=2, bidirectional=True, dtype=F64),
    "ClockworkRNN": lambda: nn.ClockworkRNN(3, 4, num_modules=2, num_layers=2, dtype=F64),
}


@pytest.mark.parametrize("name", list(OWN_LAYERS))
def test_layers_without_a_torch_twin_run_packed_input_as_their_lengths_path(rng, name):
    """Packed in, packed out, equal to lengths= on the padded batch: output, states and every gradient."""
    lengths = [3, 6, 1, 4]
    x = rng.standard_normal((6, 4, 3))
    results = []
    for packed_input in (True, False):
        manual_seed(7)
        layer = OWN_LAYERS[name]()
        xs = Tensor(x, requires_grad=True, dtype=F64)
        if packed_input:
            out, state = layer(pack_padded_sequence(xs, lengths, enforce_sorted=False))
            assert isinstance(out, PackedSequence)
            out, out_lengths = pad_packed_sequence(out, total_length=6)
            np.testing.assert_array_equal(out_lengths.data, lengths)
        else:
            out, state = layer(xs, lengths=lengths)
        states = list(state) if isinstance(state, tuple) else [state]
        weights = np.random.default_rng(8)
        sum((t * Tensor(weights.standard_normal(t.shape), dtype=F64)).sum() for t in [out, *states]).backward()
        results.append([out.data] + [s.data for s in states] + [xs.grad] + [p.grad for p in layer.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_packed_input_refusals():
    layer = nn.LSTM(3, 4, dtype=F64)
    packed = pack_padded_sequence(Tensor(np.zeros((5, 2, 3))), [5, 3])
    with pytest.raises(ValueError, match="LSTM: lengths= cannot be given with a PackedSequence input"):
        layer(packed, lengths=[5, 3])
    wide = pack_padded_sequence(Tensor(np.zeros((5, 2, 2))), [5, 3])
    with pytest.raises(ValueError, match=r"LSTM: input.data.size\(-1\) must be equal to input_size. Expected 3, got 2"):
        layer(wide)
    with pytest.raises(ValueError, match="LSTM: expected input.data of dtype float64.*got float32"):
        layer(packed.float())
    with pytest.raises(ValueError, match=r"LSTM: Expected hx\[0\] size \(1, 2, 4\), got \(1, 3, 4\)"):
        layer(packed, (Tensor(np.zeros((1, 3, 4))), Tensor(np.zeros((1, 3, 4)))))


def test_packed_return_gates_trace_is_padded(rng):
    layer = nn.GRU(3, 4, dtype=F64)
    packed = pack_padded_sequence(Tensor(rng.standard_normal((5, 2, 3))), [2, 5], enforce_sorted=False)
    out, h, traces = layer(packed, return_gates=True)
    assert isinstance(out, PackedSequence) and traces[0]["gates"].shape == (5, 2, 12)
    padded, _ = pad_packed_sequence(out)
    np.testing.assert_allclose(h.data[0], [padded.data[1, 0], padded.data[4, 1]], rtol=1e-14)
