"""optim.lr_scheduler against torch.optim.lr_scheduler (the rates over 100 steps to 1e-12, state_dict round trips,
messages) and against closed forms; and the optimisers' maximize= and duplicate-parameter warning against torch."""
import math
import warnings

import numpy as np
import pytest

from tinygrad_rnn import optim
from tinygrad_rnn.nn import Parameter
from tinygrad_rnn.optim import lr_scheduler

STEPS = 100
TIGHT = dict(rtol=1e-12, atol=1e-15)


def _opt(lib, opt_name="SGD", groups=1, **kw):
    """An optimiser of `lib` (our optim or torch.optim) over `groups` parameter groups with lr 0.1, 0.05, ..."""
    if lib is optim:
        params = [Parameter(np.zeros(2, dtype=np.float64)) for _ in range(groups)]
    else:
        import torch
        params = [torch.zeros(2, dtype=torch.float64, requires_grad=True) for _ in range(groups)]
    return getattr(lib, opt_name)([{"params": [p], "lr": 0.1 / (i + 1)} for i, p in enumerate(params)], **kw)


def _sched(lib, name, opt, kwargs):
    module = lib.lr_scheduler if lib is optim else __import__("torch").optim.lr_scheduler
    if name == "SequentialLR":
        first = module.LinearLR(opt, start_factor=0.1, total_iters=10)
        second = module.CosineAnnealingLR(opt, T_max=30, eta_min=0.001)
        third = module.ExponentialLR(opt, gamma=0.97)
        return module.SequentialLR(opt, [first, second, third], milestones=[10, 40])
    if name == "ChainedScheduler":
        return module.ChainedScheduler([module.ConstantLR(opt, factor=0.5, total_iters=20),
                                        module.ExponentialLR(opt, gamma=0.97)])
    return getattr(module, name)(opt, **kwargs)


def _metric(t):
    """A validation loss that improves, stalls and wobbles: ReduceLROnPlateau reduces a few times."""
    return 1.0 / (1 + t) if t < 20 else 0.05 + 0.01 * math.sin(t)


def _run(lib, name, kwargs, opt_name="SGD", groups=2, steps=STEPS, opt_kw=None):
    """[(lrs, momenta)] after construction and after each of `steps` (opt.step(), sched.step()) pairs."""
    opt = _opt(lib, opt_name, groups, **(opt_kw or {}))
    sched = _sched(lib, name, opt, kwargs)
    trace = []

    def record():
        lrs = [float(v) for v in sched.get_last_lr()]
        assert lrs == [float(g["lr"]) for g in opt.param_groups]
        momenta = [float(g["betas"][0] if "betas" in g else g.get("momentum", 0.0)) for g in opt.param_groups]
        trace.append((lrs, momenta))

    record()
    for t in range(steps):
        opt.step()
        sched.step(_metric(t)) if name == "ReduceLROnPlateau" else sched.step()
        record()
    return trace


CASES = [
    ("StepLR", dict(step_size=10, gamma=0.5)),
    ("StepLR", dict(step_size=3)),
    ("MultiStepLR", dict(milestones=[10, 30, 30, 80], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.95)),
    ("CosineAnnealingLR", dict(T_max=100)),
    ("CosineAnnealingLR", dict(T_max=30, eta_min=0.01)),      # past T_max: torch's recursive form oscillates
    ("LambdaLR", dict(lr_lambda=lambda epoch: 0.98 ** epoch / (1 + epoch % 7))),
    ("LinearLR", dict()),
    ("LinearLR", dict(start_factor=0.2, end_factor=0.5, total_iters=40)),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=100)),
    ("OneCycleLR", dict(max_lr=[0.5, 0.2], epochs=10, steps_per_epoch=10, pct_start=0.25, anneal_strategy="linear",
                        three_phase=True)),
    ("ReduceLROnPlateau", dict(patience=3, factor=0.5)),
    ("ReduceLROnPlateau", dict(mode="max", patience=2, threshold=0.1, threshold_mode="abs", cooldown=4,
                               min_lr=[0.02, 0.0])),
    ("SequentialLR", dict()),
    ("MultiplicativeLR", dict(lr_lambda=lambda epoch: 0.95 if epoch % 3 else 1.02)),
    ("ConstantLR", dict()),
    ("ConstantLR", dict(factor=0.5, total_iters=30)),
    ("PolynomialLR", dict()),
    ("PolynomialLR", dict(total_iters=60, power=2.0)),
    ("CosineAnnealingWarmRestarts", dict(T_0=10)),
    ("CosineAnnealingWarmRestarts", dict(T_0=5, T_mult=2, eta_min=0.001)),
    ("ChainedScheduler", dict()),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=7)),
    ("CyclicLR", dict(base_lr=[0.01, 0.02], max_lr=0.2, step_size_up=5, step_size_down=9, mode="triangular2",
                      base_momentum=0.7, max_momentum=0.95)),
    ("CyclicLR", dict(base_lr=0.001, max_lr=0.05, step_size_up=10, mode="exp_range", gamma=0.97,
                      cycle_momentum=False)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=4, scale_fn=lambda x: 0.9 ** x,
                      scale_mode="iterations")),
]
IDS = [f"{n}-{i}" for i, (n, _) in enumerate(CASES)]


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
def test_rates_over_100_steps_equal_torch(name, kwargs, opt_name):
    torch = pytest.importorskip("torch")
    opt_kw = dict(momentum=0.9) if opt_name == "SGD" else {}
    ours = _run(optim, name, kwargs, opt_name, opt_kw=opt_kw)
    theirs = _run(torch.optim, name, kwargs, opt_name, opt_kw=opt_kw)
    assert len(ours) == len(theirs) == STEPS + 1
    for t, ((lr, mom), (tlr, tmom)) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(lr, tlr, **TIGHT, err_msg=f"lr after step {t}")
        np.testing.assert_allclose(mom, tmom, **TIGHT, err_msg=f"momentum after step {t}")


# ---- closed forms, without torch ----------------------------------------------------------------------------------
def _lrs(name, kwargs, steps=STEPS, group=0):
    return np.array([lrs[group] for lrs, _ in _run(optim, name, kwargs, steps=steps)])


def test_step_lr_multi_step_lr_and_exponential_lr_closed_forms():
    t = np.arange(STEPS + 1)
    np.testing.assert_allclose(_lrs("StepLR", dict(step_size=10, gamma=0.5)), 0.1 * 0.5 ** (t // 10), **TIGHT)
    np.testing.assert_allclose(_lrs("MultiStepLR", dict(milestones=[10, 30, 30], gamma=0.3)),
                               0.1 * 0.3 ** ((t >= 10) + 2 * (t >= 30)), **TIGHT)
    np.testing.assert_allclose(_lrs("ExponentialLR", dict(gamma=0.95)), 0.1 * 0.95 ** t, rtol=1e-13)
    np.testing.assert_allclose(_lrs("ExponentialLR", dict(gamma=0.95), group=1), 0.05 * 0.95 ** t, rtol=1e-13)


def test_cosine_linear_and_lambda_closed_forms():
    t = np.arange(STEPS + 1)
    np.testing.assert_allclose(_lrs("CosineAnnealingLR", dict(T_max=100, eta_min=0.01)),
                               0.01 + (0.1 - 0.01) * (1 + np.cos(np.pi * t / 100)) / 2, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(_lrs("LinearLR", dict(start_factor=0.2, end_factor=0.5, total_iters=40)),
                               0.1 * (0.2 + 0.3 * np.minimum(t, 40) / 40), rtol=1e-12)
    np.testing.assert_allclose(_lrs("LambdaLR", dict(lr_lambda=lambda e: 1 / (1 + e))), 0.1 / (1 + t), **TIGHT)


def test_one_cycle_starts_peaks_and_ends_where_smith_says():
    lrs = _lrs("OneCycleLR", dict(max_lr=0.5, total_steps=101), steps=STEPS)
    assert lrs[0] == pytest.approx(0.5 / 25, rel=1e-15)
    assert lrs[-1] == pytest.approx(0.5 / 25 / 1e4, rel=1e-9)       # step 100 ends the last phase of 101 steps
    peaked = _lrs("OneCycleLR", dict(max_lr=0.5, total_steps=100), steps=STEPS - 1)
    assert peaked.max() == pytest.approx(0.5, rel=1e-15) and peaked.argmax() == 29   # 0.3 · 100 − 1
    with pytest.raises(ValueError, match=r"^Tried to step 102 times. The specified number of total steps is 101$"):
        _run(optim, "OneCycleLR", dict(max_lr=0.5, total_steps=101), steps=102)


def test_one_cycle_cycles_momentum_and_adams_beta1():
    sgd = _run(optim, "OneCycleLR", dict(max_lr=0.5, total_steps=100), opt_kw=dict(momentum=0.9))
    adam = _run(optim, "OneCycleLR", dict(max_lr=0.5, total_steps=100), opt_name="Adam")
    for trace in (sgd, adam):
        momenta = np.array([m[0] for _, m in trace])
        assert momenta[0] == 0.95 and momenta.min() == pytest.approx(0.85) and momenta.argmin() == 29
    opt = _opt(optim, "Adam")
    lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=10)
    assert opt.param_groups[0]["betas"] == (0.95, 0.999)


def test_reduce_lr_on_plateau_by_hand():
    opt = _opt(optim)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5, cooldown=1, min_lr=0.03)
    seen = []
    for loss in [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95]:
        sched.step(loss)
        seen.append(sched.get_last_lr()[0])
    # two bad epochs (> patience 1) halve; the cooldown epoch's bad epoch is ignored; two more halve again, but
    # min_lr 0.03 caps it; then 0.03 → max(0.015, 0.03) changes nothing
    assert seen == [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.03, 0.03, 0.03]
    for _ in range(5):
        sched.step(0.95)
    assert sched.get_last_lr() == [0.03]


# ---- state_dict ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,kwargs", [c for c in CASES if c[0] not in ("LambdaLR", "MultiplicativeLR")],
                         ids=[i for i, c in zip(IDS, CASES) if c[0] not in ("LambdaLR", "MultiplicativeLR")])
def test_state_dict_round_trip_continues_identically(name, kwargs):
    straight = _run(optim, name, kwargs, opt_kw=dict(momentum=0.9))
    opt = _opt(optim, groups=2, momentum=0.9)
    sched = _sched(optim, name, opt, kwargs)
    for t in range(40):
        opt.step()
        sched.step(_metric(t)) if name == "ReduceLROnPlateau" else sched.step()
    opt_sd, sched_sd = opt.state_dict(), sched.state_dict()
    assert "optimizer" not in sched_sd
    fresh_opt = _opt(optim, groups=2, momentum=0.9)
    fresh = _sched(optim, name, fresh_opt, kwargs)    # as in torch: build both, then load both
    fresh_opt.load_state_dict(opt_sd)
    fresh.load_state_dict(sched_sd)
    assert fresh.get_last_lr() == straight[40][0]
    for t in range(40, STEPS):
        fresh_opt.step()
        fresh.step(_metric(t)) if name == "ReduceLROnPlateau" else fresh.step()
        assert fresh.get_last_lr() == straight[t + 1][0], t


def test_state_dict_keys_match_torch():
    torch = pytest.importorskip("torch")
    for name, kwargs in CASES:
        ours = set(_sched(optim, name, _opt(optim, groups=2, momentum=0.9), kwargs).state_dict())
        theirs = set(_sched(torch.optim, name, _opt(torch.optim, groups=2, momentum=0.9), kwargs).state_dict())
        assert ours - {"_is_initial"} <= theirs, name
        assert {"last_epoch", "_last_lr"} & theirs <= ours and "_last_lr" in ours   # (ChainedScheduler: no epoch)


def test_lambda_lr_state_dict_keeps_callable_objects_state_not_functions():
    class Decay:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, epoch):
            return self.rate ** epoch

    opt = _opt(optim, groups=2)
    sched = lr_scheduler.LambdaLR(opt, [Decay(0.5), lambda e: 1.0])
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [{"rate": 0.5}, None]
    other = lr_scheduler.LambdaLR(_opt(optim, groups=2), [Decay(0.9), lambda e: 1.0])
    other.load_state_dict(sd)
    assert other.lr_lambdas[0].rate == 0.5 and "lr_lambdas" in sd


# ---- messages -----------------------------------------------------------------------------------------------------
BAD = [
    (lambda o: lr_scheduler.StepLR(object(), 3), TypeError, "object is not an Optimizer"),
    (lambda o: lr_scheduler.StepLR(o, 3, last_epoch=5), KeyError, "param 'initial_lr' is not specified in "
                                                                  "param_groups[0] when resuming scheduler"),
    (lambda o: lr_scheduler.LinearLR(o, start_factor=0), ValueError,
     "Starting multiplicative factor expected to be greater than 0 and less or equal to 1."),
    (lambda o: lr_scheduler.LinearLR(o, end_factor=1.5), ValueError,
     "Ending multiplicative factor expected to be between 0 and 1."),
    (lambda o: lr_scheduler.LambdaLR(o, [lambda e: 1, lambda e: 1]), ValueError, "Expected 1 lr_lambdas, but got 2"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0."),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="up"), ValueError, "mode up is unknown!"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, threshold_mode="x"), ValueError, "threshold mode x is unknown!"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=[0, 0]), ValueError, "expected 1 min_lrs, got 2"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1), ValueError,
     "You must define either total_steps OR (epochs AND steps_per_epoch)"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, total_steps=0), ValueError,
     "Expected positive integer total_steps, but got 0"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, total_steps=10, pct_start=1), ValueError,
     "Expected float between 0 and 1 pct_start, but got 1"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, total_steps=10, anneal_strategy="exp"), ValueError,
     "anneal_strategy must be one of 'cos' or 'linear', instead got exp"),
    (lambda o: lr_scheduler.OneCycleLR(o, [0.1, 0.2], total_steps=10), ValueError,
     "max_lr must have the same length as optimizer.param_groups. max_lr has 2 values, param_groups has 1."),
    (lambda o: lr_scheduler.SequentialLR(o, [], []), ValueError, "SequentialLR expects at least one scheduler"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.StepLR(o, 2)], [3]), ValueError,
     "Sequential Schedulers expects number of schedulers provided to be one more than the number of milestone "
     "points, but got number of schedulers 1 and the number of milestones to be equal to 1"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.ReduceLROnPlateau(o)], []), ValueError,
     "SequentialLR does not support `ReduceLROnPlateau` scheduler"),
]


@pytest.mark.parametrize("make,error,message", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_arguments_give_torchs_messages(make, error, message):
    with pytest.raises(error) as ours:
        make(_opt(optim))
    assert message in str(ours.value)
    torch = pytest.importorskip("torch")
    with pytest.raises(error) as theirs:
        _torch_equivalent(make, torch)
    assert message in str(theirs.value)


def _torch_equivalent(make, torch):
    """Runs `make` with `lr_scheduler` bound to torch's module and a torch optimiser."""
    function = type(make)(make.__code__, {**make.__globals__, "lr_scheduler": torch.optim.lr_scheduler})
    return function(_opt(torch.optim))


def test_no_step_order_warning_and_epoch_argument_warns_as_torch():
    opt = _opt(optim)
    sched = lr_scheduler.StepLR(opt, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()                                   # before opt.step(): torch warns, this engine does not
    with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step\\(\\)` was not necessary"):
        sched.step(5)                                  # closed form: 0.1 · 0.1^(5 // 2)
    assert sched.get_last_lr() == [pytest.approx(0.1 * 0.1 ** 2, rel=1e-15)] and sched.last_epoch == 5


# ---- optimisers: maximize=, a parameter listed twice ----------------------------------------------------------------
OPTIMIZERS = [("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.1)), ("Adam", dict(lr=0.01, weight_decay=0.1)),
              ("AdamW", dict(lr=0.01)), ("Adagrad", dict(lr=0.1, weight_decay=0.1)),
              ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1))]


def _grads(seed=0, steps=5):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((3, 4)), [rng.standard_normal((3, 4)) for _ in range(steps)]


@pytest.mark.parametrize("name,kwargs", OPTIMIZERS, ids=[n for n, _ in OPTIMIZERS])
def test_maximize_equals_torch_and_is_minimizing_the_negation(name, kwargs):
    init, grads = _grads()
    p, q = Parameter(init.copy()), Parameter(init.copy())
    up, down = getattr(optim, name)([p], maximize=True, **kwargs), getattr(optim, name)([q], **kwargs)
    assert up.defaults["maximize"] is True and down.defaults["maximize"] is False
    for g in grads:
        p.grad, q.grad = g.copy(), -g
        up.step()
        down.step()
    np.testing.assert_allclose(p.data, q.data, **TIGHT)   # ascending f is descending −f
    assert not np.allclose(p.data, init)
    torch = pytest.importorskip("torch")
    tp = torch.tensor(init, requires_grad=True)
    topt = getattr(torch.optim, name)([tp], maximize=True, foreach=False, **kwargs)
    for g in grads:
        tp.grad = torch.tensor(g)
        topt.step()
    np.testing.assert_allclose(p.data, tp.detach().numpy(), **TIGHT)
    assert up.state_dict()["param_groups"][0]["maximize"] is True


def test_state_dict_without_maximize_loads_with_torchs_default():
    p = Parameter(np.ones(2))
    opt = optim.Adam([p])
    sd = opt.state_dict()
    del sd["param_groups"][0]["maximize"]           # saved before the option existed
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["maximize"] is False


DUPLICATE = ("optimizer contains a parameter group with duplicate parameters; in future, this will cause an error; "
             "see github.com/pytorch/pytorch/issues/40967 for more information")


@pytest.mark.parametrize("name,kwargs", OPTIMIZERS, ids=[n for n, _ in OPTIMIZERS])
def test_a_parameter_listed_twice_warns_and_steps_twice_as_torch(name, kwargs):
    init, grads = _grads(1)
    p, other = Parameter(init.copy()), Parameter(init.copy())
    with pytest.warns(UserWarning) as record:
        opt = getattr(optim, name)([p, other, p], **kwargs)
    assert [str(w.message) for w in record] == [DUPLICATE]
    assert len(opt.param_groups[0]["params"]) == 3
    for g in grads:
        p.grad, other.grad = g.copy(), g.copy()
        opt.step()
    assert not np.allclose(p.data, other.data)      # p was updated twice per step
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [2, 1, 2] and sorted(sd["state"]) == [1, 2]   # torch's last index
    torch = pytest.importorskip("torch")
    tp, tother = torch.tensor(init, requires_grad=True), torch.tensor(init, requires_grad=True)
    with pytest.warns(UserWarning) as trecord:
        topt = getattr(torch.optim, name)([tp, tother, tp], foreach=False, **kwargs)
    assert [str(w.message) for w in trecord] == [DUPLICATE]
    for g in grads:
        tp.grad, tother.grad = torch.tensor(g), torch.tensor(g)
        topt.step()
    np.testing.assert_allclose(p.data, tp.detach().numpy(), **TIGHT)
    np.testing.assert_allclose(other.data, tother.detach().numpy(), **TIGHT)
    assert topt.state_dict()["param_groups"][0]["params"] == [2, 1, 2]
