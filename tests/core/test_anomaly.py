"""Issue 8, item 4: detect_anomaly() names the backward op that made a NaN/Inf and where its forward ran;
clip_grad_norm_(error_if_nonfinite=True) raises and changes nothing."""
import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import Function, anomaly, nn, optim
from tinygrad_rnn.nn import Parameter


class NanInBackward(Function):
    """The identity forward; its backward returns NaN (a stand-in for a buggy op)."""

    @staticmethod
    def forward(ctx, a):
        return a.copy()

    @staticmethod
    def backward(ctx, g):
        return g * np.nan


def test_backward_nan_names_the_op_and_its_forward_line():
    x = tg.Tensor([1.0, 2.0], requires_grad=True, dtype=np.float64)
    with tg.detect_anomaly():
        y = NanInBackward.apply(x * 2)  # the forward line the error must show
        with pytest.raises(RuntimeError) as info:
            (y * 3).sum().backward()
    message = str(info.value)
    assert message.startswith("Function 'NanInBackwardBackward' returned nan values in its 0th output.")
    assert "Traceback of forward call that caused the error:" in message
    assert __file__ in message and "y = NanInBackward.apply(x * 2)  # the forward line the error must show" in message
    assert x.grad is None                                    # nothing reached the leaf


def test_backward_inf_names_pow():
    x = tg.Tensor([0.0, 4.0], requires_grad=True, dtype=np.float64)
    with tg.detect_anomaly():
        y = x ** 0.5                                         # finite forward, ∂ = 0.5·x^(−0.5) is inf at 0
        with pytest.raises(RuntimeError, match=r"^Function 'PowBackward' returned inf values in its 0th output\."):
            with np.errstate(divide="ignore"):
                y.sum().backward()


def test_forward_nan_raises_at_once():
    x = tg.Tensor([-1.0, 1.0], requires_grad=True)
    with tg.detect_anomaly():
        with np.errstate(invalid="ignore"):
            with pytest.raises(RuntimeError, match=r"Function 'Log' returned nan values in its 0th output \(in forward\)"):
                x.log()
        with np.errstate(divide="ignore"):
            assert np.isneginf(tg.Tensor([0.0], requires_grad=True).log().data).all()  # −inf is a value, not an anomaly


def lstm_case(scan):
    tg.manual_seed(0)
    lstm = nn.LSTM(3, 4, dtype=np.float64)
    lstm.scan = scan
    return lstm, tg.randn(6, 2, 3, dtype=np.float64)


def test_lstm_scan_names_the_step_op_and_time():
    lstm, x = lstm_case(scan=True)
    with tg.detect_anomaly():
        out, _ = lstm(x)
        g = np.zeros(out.shape)
        g[3, 1, 2] = np.inf                                  # an upstream gradient that overflowed
        with pytest.raises(RuntimeError) as info, np.errstate(invalid="ignore"):
            out.backward(g)
    message = str(info.value)
    assert message.startswith("Function 'LSTMStepBackward' returned ")
    assert "in its 0th output at time step 3 of a Scan." in message
    assert "out, _ = lstm(x)" in message


def test_lstm_per_step_names_the_step_op():
    lstm, x = lstm_case(scan=False)
    with tg.detect_anomaly():
        out, (h, c) = lstm(x)
        step_output = out._ctx.parents[2]                    # h_2, one step node's output (stack's 3rd input)
        step_output.register_hook(lambda g: g * np.nan)
        with pytest.raises(RuntimeError, match=r"^Function 'LSTMStepBackward' returned nan values in its 0th"):
            out.sum().backward()


def test_nodes_created_outside_the_block_say_so():
    x = tg.Tensor([1.0], requires_grad=True, dtype=np.float64)
    y = NanInBackward.apply(x)
    with tg.detect_anomaly():
        with pytest.raises(RuntimeError, match="created outside detect_anomaly"):
            y.sum().backward()


def test_off_by_default_records_nothing_and_nan_propagates():
    assert anomaly.is_anomaly_enabled() is False
    x = tg.Tensor([1.0], requires_grad=True, dtype=np.float64)
    y = NanInBackward.apply(x)
    assert getattr(y._ctx, "trace", None) is None
    y.sum().backward()
    assert np.isnan(x.grad).all()


def test_mode_is_restored_nested_after_errors_and_as_decorator():
    with tg.detect_anomaly():
        with tg.detect_anomaly():
            assert anomaly.is_anomaly_enabled()
        assert anomaly.is_anomaly_enabled()
        with pytest.raises(ZeroDivisionError):
            with tg.detect_anomaly():
                1 / 0
        assert anomaly.is_anomaly_enabled()
    assert not anomaly.is_anomaly_enabled()

    @tg.detect_anomaly()
    def inside():
        return anomaly.is_anomaly_enabled()

    assert inside() and not anomaly.is_anomaly_enabled()


@pytest.mark.parametrize("scan", [True, False], ids=["scan", "per-step"])
def test_gradients_are_identical_with_anomaly_mode(scan):
    grads = []
    for on in (False, True):
        lstm, x = lstm_case(scan)
        if on:
            with tg.detect_anomaly():
                out, (h, c) = lstm(x)
                (out.sum() + c.sum()).backward()
        else:
            out, (h, c) = lstm(x)
            (out.sum() + c.sum()).backward()
        grads.append([p.grad.tobytes() for p in lstm.parameters()])
    assert grads[0] == grads[1]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_clip_grad_norm_error_if_nonfinite_changes_nothing(bad):
    g = np.random.default_rng(0)
    params = [Parameter(g.standard_normal((3, 2))), Parameter(g.standard_normal(4)), Parameter(g.standard_normal(2))]
    for p in params:
        p.grad = g.standard_normal(p.shape) * 100
    params[1].grad[2] = bad
    before = [(p.data.tobytes(), p.grad.tobytes()) for p in params]
    with pytest.raises(RuntimeError, match="non-finite"):
        optim.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    assert [(p.data.tobytes(), p.grad.tobytes()) for p in params] == before
