"""utils.data against torch.utils.data: the same batches (sequential loaders give torch's exact batches; shuffled
ones are permutations of the same samples, from the engine's generator), collation, lengths and messages."""
import collections

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn.utils import data


def _arrays(n=10):
    r = np.random.default_rng(0)
    return r.standard_normal((n, 3)), r.integers(0, 4, size=n)


@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (3, False), (3, True), (10, False), (12, True)])
def test_sequential_batches_equal_torch_s(torch, batch_size, drop_last):
    x, y = _arrays()
    ours = data.DataLoader(data.TensorDataset(tg.tensor(x), tg.tensor(y)), batch_size=batch_size, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y)),
                                         batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    got, want = list(ours), list(theirs)
    assert len(got) == len(want)
    for (gx, gy), (wx, wy) in zip(got, want):
        np.testing.assert_array_equal(gx.numpy(), wx.numpy())
        np.testing.assert_array_equal(gy.numpy(), wy.numpy())
        assert gx.dtype == np.float64 and gy.dtype == np.int64


def test_shuffle_covers_every_sample_once_and_follows_manual_seed():
    x, y = _arrays(11)
    loader = data.DataLoader(data.TensorDataset(tg.tensor(x), tg.tensor(y)), batch_size=4, shuffle=True)
    tg.manual_seed(3)
    first = np.concatenate([b[1].numpy() for b in loader])
    order = np.concatenate([np.flatnonzero((x == row).all(1)) for b in loader for row in b[0].numpy()])
    assert sorted(order.tolist()) == list(range(11)) and not np.array_equal(order, np.arange(11))
    tg.manual_seed(3)
    again = np.concatenate([b[1].numpy() for b in loader])
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(np.sort(first), np.sort(y))


def test_a_generator_of_its_own_leaves_the_engine_s_alone():
    tg.manual_seed(0)
    expected = tg.randn(3).numpy()
    tg.manual_seed(0)
    g = tg.Generator().manual_seed(5)
    split = data.random_split(range(10), [7, 3], generator=g)
    np.testing.assert_array_equal(tg.randn(3).numpy(), expected)      # the split drew nothing from the engine's
    again = data.random_split(range(10), [7, 3], generator=tg.Generator().manual_seed(5))
    assert list(split[0]) == list(again[0]) and sorted(list(split[0]) + list(split[1])) == list(range(10))


def test_random_split_fractions_as_torch_s(torch):
    lengths = [len(s) for s in data.random_split(range(10), [0.33, 0.33, 0.34])]
    assert lengths == [len(s) for s in torch.utils.data.random_split(range(10), [0.33, 0.33, 0.34])]
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length of the input dataset!"):
        data.random_split(range(10), [3, 3])


def test_default_collate_as_torch_s(torch):
    Point = collections.namedtuple("Point", "x y")
    samples = [
        [(1.5, 2, True), (2.5, 3, False)],
        [{"a": np.ones(2), "b": "s1"}, {"a": np.zeros(2), "b": "s2"}],
        [Point(1.0, 2), Point(3.0, 4)],
        [np.float32(1.0), np.float32(2.0)],
    ]
    for batch in samples:
        ours, theirs = data.default_collate(batch), torch.utils.data.default_collate(batch)
        _assert_same_structure(ours, theirs)


def _assert_same_structure(ours, theirs):
    if hasattr(theirs, "numpy") and not isinstance(theirs, np.ndarray):
        assert isinstance(ours, tg.Tensor)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert str(ours.dtype).split(".")[-1] in str(theirs.dtype), (ours.dtype, theirs.dtype)
    elif isinstance(theirs, dict):
        assert set(ours) == set(theirs)
        for k in theirs:
            _assert_same_structure(ours[k], theirs[k])
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _assert_same_structure(a, b)
    else:
        assert ours == theirs


def test_unequal_sequences_in_a_batch_are_torch_s_error():
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        data.default_collate([[1, 2], [1]])


def test_batch_size_none_yields_samples_unbatched():
    x, y = _arrays(4)
    got = list(data.DataLoader(data.TensorDataset(tg.tensor(x), tg.tensor(y)), batch_size=None))
    assert len(got) == 4 and got[2][0].shape == (3,)
    np.testing.assert_array_equal(got[2][0].numpy(), x[2])


def test_iterable_dataset_batches_in_order():
    class Stream(data.IterableDataset):
        def __iter__(self):
            return iter(range(7))

    assert [b.tolist() for b in data.DataLoader(Stream(), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        data.DataLoader(Stream(), shuffle=True)


def test_samplers():
    assert list(data.SequentialSampler(range(4))) == [0, 1, 2, 3]
    assert list(data.BatchSampler(range(5), 2, drop_last=False)) == [[0, 1], [2, 3], [4]]
    assert len(data.BatchSampler(range(5), 2, drop_last=True)) == 2
    tg.manual_seed(1)
    drawn = list(data.WeightedRandomSampler([0.0, 1.0, 0.0], 20))
    assert drawn == [1] * 20                                           # zero weight is never drawn
    assert sorted(data.SubsetRandomSampler([5, 7, 9])) == [5, 7, 9]
    assert len(list(data.RandomSampler(range(3), num_samples=7))) == 7


def test_subset_and_concat():
    d = data.ConcatDataset([range(3), range(10, 12)])
    assert [d[i] for i in range(len(d))] == [0, 1, 2, 10, 11] and d[-1] == 11
    assert list(data.Subset(range(10, 20), [3, 1])) == [13, 11]


def test_refusals_name_the_argument():
    ds = data.TensorDataset(tg.zeros(4, 2))
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        data.DataLoader(ds, sampler=data.SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        data.DataLoader(ds, batch_sampler=data.BatchSampler(range(4), 2, False), batch_size=2)
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, but got batch_size=0"):
        data.DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        data.DataLoader(ds, num_workers=-1)
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        data.TensorDataset(tg.zeros(4), tg.zeros(3))


def test_a_training_loop_over_a_loader_learns():
    """The loader in a real loop: a linear model fit by SGD over shuffled mini-batches reaches the least-squares
    weights (checked against NumPy's lstsq)."""
    r = np.random.default_rng(0)
    x = r.standard_normal((64, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + 0.3
    model = tg.nn.Linear(3, 1, dtype=np.float64)
    opt = tg.optim.SGD(model.parameters(), lr=0.1)
    loader = data.DataLoader(data.TensorDataset(tg.tensor(x), tg.tensor(y)), batch_size=16, shuffle=True,
                             num_workers=2)
    tg.manual_seed(0)
    for _ in range(200):
        for xb, yb in loader:
            opt.zero_grad()
            loss = ((model(xb).squeeze(1) - yb) ** 2).mean()
            loss.backward()
            opt.step()
    w, *_ = np.linalg.lstsq(np.c_[x, np.ones(64)], y, rcond=None)
    np.testing.assert_allclose(np.r_[model.weight.data[0], model.bias.data], w, atol=1e-6)
