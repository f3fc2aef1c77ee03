"""The Python protocol a PyTorch user expects of a Tensor (issue 13, part 1): float/int/bool/index conversions,
f-string formatting, np.asarray, iteration, tolist, dim, device, cpu/to, clone, contiguous; and an evaluation loop
written the PyTorch way, run unchanged except for the import."""
import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import Tensor


def torch_or_skip():
    return pytest.importorskip("torch")


def raised(fn, *args):
    """(type, message) of what fn(*args) raises."""
    try:
        fn(*args)
    except Exception as e:                                             # noqa: BLE001
        return type(e), str(e)
    raise AssertionError("did not raise")


# ---- one-element conversions --------------------------------------------------------------------------------------
def test_float_int_bool_index_of_one_element():
    assert float(Tensor(2.5)) == 2.5 and float(Tensor([[2.5]])) == 2.5 and type(float(Tensor(2.5))) is float
    assert int(Tensor(-2.7)) == -2 and int(Tensor(np.array([7]))) == 7
    assert bool(Tensor(0.0)) is False and bool(Tensor([3.0])) is True
    assert [10, 20, 30][Tensor(np.array(2))] == 30 and [10, 20, 30][Tensor([1], dtype=tg.long)] == 20
    assert range(10)[Tensor(np.array(4, np.int32))] == 4
    torch = torch_or_skip()
    assert float(torch.tensor([[2.5]])) == 2.5 and int(torch.tensor(-2.7)) == -2
    assert [10, 20, 30][torch.tensor(2)] == 30 and [10, 20, 30][torch.tensor([1])] == 20


@pytest.mark.parametrize("fn", [float, int, bool, lambda t: [1, 2, 3][t]], ids=["float", "int", "bool", "index"])
@pytest.mark.parametrize("data", [[1.0, 2.0], [], 1.0], ids=["two", "empty", "float_scalar"])
def test_conversions_raise_torch_s_errors(fn, data):
    ours_data = Tensor(data)
    if data == 1.0 and fn is not None and fn in (float, int, bool):
        assert fn(ours_data) == fn(1.0)
        return
    ours = raised(fn, ours_data)
    assert ours[1] in ("only one element tensors can be converted to Python scalars",
                       "Boolean value of Tensor with more than one value is ambiguous",
                       "Boolean value of Tensor with no values is ambiguous",
                       "only integer tensors of a single element can be converted to an index")
    torch = torch_or_skip()
    assert ours == raised(fn, torch.tensor(data))


# ---- formatting, arrays, iteration ------------------------------------------------------------------------------
def test_format_of_a_0d_tensor_is_its_number():
    loss = Tensor(1.23456, requires_grad=True) * 1
    assert f"{loss:.3f}" == "1.235" and f"{Tensor(np.array(7)):>3d}" == "  7"
    assert f"{loss}" == str(float(np.float32(1.23456)))        # a 0-d tensor formats as its item(), even for ""
    assert f"{Tensor([1.0, 2.0])}" == repr(Tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="unsupported format string passed to Tensor.__format__"):
        f"{Tensor([1.0, 2.0]):.3f}"
    torch = torch_or_skip()
    assert f"{torch.tensor(1.23456):.3f}" == "1.235" and f"{torch.tensor(1.23456)}" == f"{loss}"
    assert raised(lambda: f"{Tensor([1.5]):.3f}") == raised(lambda: f"{torch.tensor([1.5]):.3f}")


def test_asarray_gives_the_data():
    t = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    a = np.asarray(t)
    assert a.dtype == np.float64 and a.shape == (2, 3) and a is t.data
    np.testing.assert_array_equal(np.asarray(t, dtype=np.float32), t.data.astype(np.float32))
    assert np.array(t) is not t.data and np.array(t).tolist() == t.data.tolist()
    assert np.asarray([Tensor(1.0), Tensor(2.0)]).dtype == np.float32         # was an object array
    torch = torch_or_skip()
    assert np.asarray(torch.arange(6.0, dtype=torch.float64).reshape(2, 3)).tolist() == a.tolist()


def test_iteration_is_over_the_first_dim_on_the_tape():
    x = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    rows = list(x)
    assert len(rows) == 3 and [r.tolist() for r in rows] == [[0, 1], [2, 3], [4, 5]]
    (rows[0] * 1 + rows[2] * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [[1, 1], [0, 0], [3, 3]])
    a, b = Tensor(np.array([4, 5]))
    assert (int(a), int(b)) == (4, 5)
    assert raised(iter, Tensor(1.0)) == (TypeError, "iteration over a 0-d tensor")
    assert raised(len, Tensor(1.0)) == (TypeError, "len() of a 0-d tensor")
    torch = torch_or_skip()
    assert raised(iter, torch.tensor(1.0)) == raised(iter, Tensor(1.0))
    assert raised(len, torch.tensor(1.0)) == raised(len, Tensor(1.0))
    tx = torch.arange(6.0, dtype=torch.float64).reshape(3, 2).requires_grad_()
    trows = list(tx)
    (trows[0] * 1 + trows[2] * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())


def test_tolist_dim_device_cpu():
    x = Tensor(np.array([[1, 2], [3, 4]]))
    assert x.tolist() == [[1, 2], [3, 4]] and type(x.tolist()[0][0]) is int
    assert Tensor(2.5).tolist() == 2.5 and x.dim() == 2 and Tensor(1.0).dim() == 0
    assert x.device == "cpu" and str(x.device) == "cpu" and x.device.type == "cpu" and x.device == tg.device("cpu")
    assert x.cpu() is x and x.to("cpu") is x and x.to(tg.device("cpu")) is x and not x.is_cuda
    torch = torch_or_skip()
    tx = torch.tensor([[1, 2], [3, 4]])
    assert tx.tolist() == x.tolist() and tx.dim() == x.dim() and str(tx.device) == str(x.device)
    assert repr(tx.device) == repr(x.device)


def test_clone_is_a_copy_on_the_tape():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x.clone()
    assert y.data is not x.data and y.grad_fn is not None and y.tolist() == [1.0, 2.0]
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad, [2, 4])
    torch = torch_or_skip()
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    ty = tx.clone()
    (ty * ty).sum().backward()
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())


def test_contiguous():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert x.contiguous() is x and x.is_contiguous()
    t = x.T
    assert not t.is_contiguous()
    c = t.contiguous()
    assert c.is_contiguous() and c.data.flags.c_contiguous and c.tolist() == t.tolist()
    (c * Tensor(np.arange(6.0).reshape(3, 2))).sum().backward()
    np.testing.assert_array_equal(x.grad, np.arange(6.0).reshape(3, 2).T)
    torch = torch_or_skip()
    tx = torch.arange(6.0, dtype=torch.float64).reshape(2, 3).requires_grad_()
    assert tx.contiguous() is tx and not tx.T.is_contiguous() and tx.T.contiguous().is_contiguous()


# ---- a PyTorch-style evaluation loop, unchanged but for the import ------------------------------------------
EVAL_LOOP = '''
import numpy as np
import {lib} as torch
import {lib}.nn.functional as F

torch.manual_seed(0)
{setup}
emb = nn.Embedding(10, 4)
head = nn.Linear(4, 3)
tokens = torch.tensor(np.array([[1, 2], [3, 4], [5, 6], [7, 8], [9, 0], [2, 2]]))
labels = torch.tensor(np.array([0, 1, 2, 0, 1, 2]))
with torch.no_grad():
    logits = head(emb(tokens).sum(dim=1))
    loss = F.cross_entropy(logits, labels)
    pred = logits.argmax(dim=1)
    correct = (pred == labels).sum().item()
    acc = float((pred == labels).float().mean())
log = f"loss {{float(loss):.4f}} acc {{acc:.3f}} {{loss:.2f}} correct {{correct}}/{{len(labels)}}"
for row, y in zip(logits, labels):
    assert int(row.argmax()) in range(3) and 0 <= int(y) < 3
'''


def run_loop(lib, setup):
    scope = {}
    exec(EVAL_LOOP.format(lib=lib, setup=setup), scope)
    return scope


def test_pytorch_style_evaluation_loop_runs_unchanged():
    ours = run_loop("tinygrad_rnn", "from tinygrad_rnn import nn")
    logits, labels = ours["logits"].data, ours["labels"].data
    assert ours["labels"].dtype == np.int64 and ours["pred"].dtype == np.int64
    pred = logits.argmax(axis=1)
    want_loss = np.mean(np.log(np.exp(logits.astype(np.float64)).sum(1)) - logits[np.arange(6), labels])
    assert ours["correct"] == int((pred == labels).sum()) and ours["acc"] == pytest.approx(ours["correct"] / 6)
    assert float(ours["loss"]) == pytest.approx(want_loss, rel=1e-5)
    assert ours["log"] == (f"loss {float(ours['loss']):.4f} acc {ours['acc']:.3f} {float(ours['loss']):.2f} "
                           f"correct {ours['correct']}/6")
    torch = torch_or_skip()
    theirs = run_loop("torch", "from torch import nn")
    # the same program in torch, given our weights: the same predictions, loss and log
    t_logits = torch.from_numpy(logits)
    t_loss = torch.nn.functional.cross_entropy(t_logits, torch.from_numpy(labels))
    assert float(ours["loss"]) == pytest.approx(float(t_loss), rel=1e-6)
    assert torch.equal(t_logits.argmax(dim=1), torch.from_numpy(ours["pred"].data))
    assert set(theirs) >= {"loss", "acc", "correct", "log"} and theirs["log"].startswith("loss ")
