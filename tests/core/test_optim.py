"""optim: every optimiser against torch.optim (float64, rtol 1e-12), state_dict round trips, hand-computed steps,
argument validation, dtype preservation (gradient clipping: tests/nn/test_nn_utils.py)."""
import re

import numpy as np
import pytest

import tinygrad_rnn as tg
import tinygrad_rnn.optim as optim
from tinygrad_rnn.nn import Parameter

SHAPES = [(3, 4), (5,), ()]
TIGHT = dict(rtol=1e-12, atol=1e-15)

CASES = [  # (name, kwargs): each hyperparameter path of each optimiser
    ("SGD", dict()),
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.5, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.5, weight_decay=0.1, nesterov=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.9))),  # 1 − β₁ ≥ 0.5: the other branch of lerp
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True, betas=(0.5, 0.9))),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.2, eps=1e-3)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, alpha=0.3, centered=True)),  # 1 − α ≥ 0.5 in grad_avg's lerp
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1, eps=1e-4)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.01, betas=(0.3, 0.9))),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.01, weight_decay=0.1, betas=(0.3, 0.9), eps=1e-4)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.5, weight_decay=0.1, eps=1e-4)),
]
IDS = [f"{name}-" + ("-".join(f"{k}={v}" for k, v in kw.items()) or "defaults") for name, kw in CASES]


def problem(seed=0, steps=5):
    """Initial values and per-step gradients (varying in scale, so amsgrad's maximum matters)."""
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) * (3.0 if k == 0 else rng.uniform(0.2, 2)) for s in SHAPES]
             for k in range(steps)]
    return init, grads


def make_params(init, dtype=np.float64):
    return [Parameter(np.asarray(x, dtype=dtype)) for x in init]


def apply_steps(opt, params, grads):
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = None if g is None else np.array(g, dtype=p.data.dtype)
        opt.step()
    return [p.data for p in params]


def run_torch(torch, name, kwargs, init, grads):
    params = [torch.tensor(x, requires_grad=True) for x in init]
    opt = getattr(torch.optim, name)(params, foreach=False, **kwargs)
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = None if g is None else torch.tensor(g)
        opt.step()
    return params, opt


# ---- parity with torch.optim --------------------------------------------------------------------------------------
@pytest.mark.parametrize("steps", [1, 5])
@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_matches_torch(name, kwargs, steps, torch):
    init, grads = problem(steps=steps)
    params = make_params(init)
    opt = getattr(optim, name)(params, **kwargs)
    ours = apply_steps(opt, params, grads)
    theirs, topt = run_torch(torch, name, kwargs, init, grads)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b.detach().numpy(), **TIGHT)
    for p, tp in zip(params, theirs):  # same state, under the same keys
        state, tstate = opt.state.get(p, {}), topt.state[tp]
        assert set(state) == set(tstate)
        for key, value in tstate.items():
            if key == "step":
                assert state[key] == int(value) and isinstance(state[key], int)
            else:
                np.testing.assert_allclose(state[key], value.numpy(), **TIGHT)


PICKED = [4, 12, 15, 19, 24]  # nesterov SGD, AdamW and amsgrad Adam, Adagrad, centered RMSprop with momentum


@pytest.mark.parametrize("name,kwargs", [CASES[i] for i in PICKED], ids=[IDS[i] for i in PICKED])
def test_param_groups_and_missing_grads_match_torch(name, kwargs, torch):
    init, grads = problem(seed=1)
    grads[1][0] = grads[3][2] = None  # skipped: no update and, on a first step, no state
    grads[0][1] = None
    params = make_params(init)
    groups = [{"params": params[:1]}, {"params": params[1:], "lr": 0.3, "weight_decay": 0.05}]
    opt = getattr(optim, name)(groups, **kwargs)
    ours = apply_steps(opt, params, grads)
    tparams = [torch.tensor(x, requires_grad=True) for x in init]
    tgroups = [{"params": tparams[:1]}, {"params": tparams[1:], "lr": 0.3, "weight_decay": 0.05}]
    topt = getattr(torch.optim, name)(tgroups, foreach=False, **kwargs)
    for step_grads in grads:
        for p, g in zip(tparams, step_grads):
            p.grad = None if g is None else torch.tensor(g)
        topt.step()
    for a, b in zip(ours, tparams):
        np.testing.assert_allclose(a, b.detach().numpy(), **TIGHT)
    ours_sd, theirs_sd = opt.state_dict(), topt.state_dict()
    assert sorted(ours_sd["state"]) == sorted(theirs_sd["state"])
    for g, tg_ in zip(ours_sd["param_groups"], theirs_sd["param_groups"]):
        assert set(g) <= set(tg_) and all(g[k] == tg_[k] for k in g)  # torch adds foreach, maximize, ...


def test_defaults_match_torch(torch):
    for name in ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "NAdam", "Adamax", "Adadelta"]:
        ours = getattr(optim, name)([Parameter(np.zeros(2))]).defaults
        theirs = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)]).defaults
        assert ours == {k: theirs[k] for k in ours}, name


# ---- state_dict ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_state_dict_round_trip_continues_identically(name, kwargs):
    init, grads = problem(seed=2)
    straight = make_params(init)
    expected = apply_steps(getattr(optim, name)(straight, **kwargs), straight, grads)

    first = make_params(init)
    opt = getattr(optim, name)(first, **kwargs)
    apply_steps(opt, first, grads[:3])
    sd = opt.state_dict()
    resumed = make_params([p.data for p in first])  # copies of the parameters at the checkpoint
    snapshot = {i: {k: np.copy(v) for k, v in s.items()} for i, s in sd["state"].items()}
    for a, b in zip(apply_steps(opt, first, grads[3:]), expected):  # the saved dict holds copies: steps leave it alone
        np.testing.assert_array_equal(a, b)
    for i, s in sd["state"].items():
        for k, v in s.items():
            np.testing.assert_array_equal(v, snapshot[i][k])

    fresh = getattr(optim, name)(resumed, **{k: v for k, v in kwargs.items() if k != "lr"})  # lr comes from sd
    fresh.load_state_dict(sd)
    assert fresh.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    for arr in (v for s in sd["state"].values() for v in s.values() if isinstance(v, np.ndarray)):
        arr += 1.0  # the loaded state is a copy too
    got = apply_steps(fresh, resumed, grads[3:])
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


def test_state_dict_layout():
    params = make_params(problem()[0])
    opt = optim.Adam([{"params": params[:2]}, {"params": params[2:], "lr": 0.5}], amsgrad=True)
    apply_steps(opt, params, problem(steps=1)[1])
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][1]["lr"] == 0.5 and sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert list(sd["state"]) == [0, 1, 2]
    assert list(sd["state"][0]) == ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
    assert sd["state"][0]["step"] == 1
    assert sd["state"][0]["exp_avg"] is not opt.state[params[0]]["exp_avg"]
    sgd = optim.SGD(params, lr=0.1)  # no momentum: no state, as torch
    apply_steps(sgd, params, problem(steps=1)[1])
    assert sgd.state_dict()["state"] == {}
    assert optim.Adagrad(params).state_dict()["state"][2]["step"] == 0  # Adagrad's state exists from the start


def test_load_state_dict_into_float32_casts_state():
    init, grads = problem()
    params = make_params(init)
    opt = optim.Adam(params)
    apply_steps(opt, params, grads[:2])
    p32 = make_params(init, np.float32)
    opt32 = optim.Adam(p32)
    opt32.load_state_dict(opt.state_dict())
    assert opt32.state[p32[0]]["exp_avg"].dtype == np.float32 and opt32.state[p32[0]]["step"] == 2


def test_load_state_dict_mismatch_errors():
    params = make_params(problem()[0])
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    apply_steps(opt, params, problem(steps=1)[1])
    sd = opt.state_dict()
    two_groups = optim.SGD([{"params": params[:1]}, {"params": params[1:]}], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"different number of parameter groups: expected 2 .*received 1"):
        two_groups.load_state_dict(sd)
    with pytest.raises(ValueError, match=r"doesn't match the size of optimizer's group: group 0 expected 2 "
                                         r"parameters, received 3"):
        optim.SGD(params[:2], lr=0.1, momentum=0.9).load_state_dict(sd)
    swapped = make_params([np.zeros((4, 3)), np.zeros(5), np.zeros(())])
    with pytest.raises(ValueError, match=re.escape("parameter 0: state 'momentum_buffer' has shape (3, 4), "
                                                   "expected (4, 3)")):
        optim.SGD(swapped, lr=0.1, momentum=0.9).load_state_dict(sd)
    adam = optim.Adam(params)
    with pytest.raises(ValueError, match=r"lacks hyperparameter\(s\) \['betas', 'eps'"):
        adam.load_state_dict(sd)
    assert adam.state == {} and adam.param_groups[0]["lr"] == 1e-3  # a failed load changes nothing


# ---- hand-computed steps (no torch) -------------------------------------------------------------------------------
def test_sgd_momentum_by_hand():
    p = Parameter(np.array([1.0, -2.0], dtype=np.float64))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = np.array([1.0, 0.5])
    opt.step()  # buf = g = [1, 0.5]
    np.testing.assert_allclose(p.data, [0.9, -2.05], rtol=1e-15)
    p.grad = np.array([2.0, -1.0])
    opt.step()  # buf = 0.9·[1, 0.5] + [2, −1] = [2.9, −0.55]
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"], [2.9, -0.55], rtol=1e-15)
    np.testing.assert_allclose(p.data, [0.9 - 0.29, -2.05 + 0.055], rtol=1e-15)


def test_sgd_nesterov_and_weight_decay_by_hand():
    p = Parameter(np.array([2.0]), dtype=np.float64)
    opt = optim.SGD([p], lr=0.5, momentum=0.5, weight_decay=0.25, nesterov=True)
    p.grad = np.array([1.0])
    opt.step()  # g = 1 + 0.25·2 = 1.5; buf = 1.5; g = 1.5 + 0.5·1.5 = 2.25; θ = 2 − 1.125
    np.testing.assert_allclose(p.data, [0.875], rtol=1e-15)


def test_adam_first_step_is_lr_times_sign():
    g = np.array([3.0, -0.5, 1e-3, -7.0])
    p = Parameter(np.zeros(4), dtype=np.float64)
    opt = optim.Adam([p], lr=0.01)
    p.grad = g.copy()
    opt.step()  # m̂ = g, v̂ = g², so Δθ = −lr·g/(|g| + ε)
    np.testing.assert_allclose(p.data, -0.01 * g / (np.abs(g) + 1e-8), rtol=1e-14)
    np.testing.assert_allclose(p.data, -0.01 * np.sign(g), rtol=1e-5)


def test_adamw_decays_decoupled_by_hand():
    p = Parameter(np.array([1.0, -1.0]), dtype=np.float64)
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    p.grad = np.array([2.0, 2.0])
    opt.step()  # θ(1 − 0.05), then −0.1·g/(|g| + ε)
    np.testing.assert_allclose(p.data, np.array([0.95, -0.95]) - 0.1 * 2 / (2 + 1e-8), rtol=1e-14)


def test_adagrad_and_rmsprop_first_steps_by_hand():
    g = np.array([2.0, -0.5])
    p = Parameter(np.zeros(2), dtype=np.float64)
    opt = optim.Adagrad([p], lr=0.1, lr_decay=1.0)
    for k in range(2):
        p.grad = g.copy()
        opt.step()  # step k+1: sum = (k+1)g², lr/(1 + k)
    np.testing.assert_allclose(p.data, -0.1 * g / (np.abs(g) + 1e-10) - 0.05 * g / (np.sqrt(2) * np.abs(g) + 1e-10),
                               rtol=1e-14)
    q = Parameter(np.zeros(2), dtype=np.float64)
    opt = optim.RMSprop([q], lr=0.01)
    q.grad = g.copy()
    opt.step()  # v = 0.01 g²
    np.testing.assert_allclose(q.data, -0.01 * g / (0.1 * np.abs(g) + 1e-8), rtol=1e-14)


def test_step_skips_params_without_grad_and_closure():
    a, b = Parameter(np.ones(2)), Parameter(np.ones(2))
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = np.ones(2, dtype=np.float32)
    data = a.data
    assert opt.step(lambda: 42.0) == 42.0
    assert a.data is data and np.all(a.data < 1) and np.all(b.data == 1)  # in place; b untouched
    assert b not in opt.state or opt.state[b] == {}


def test_minimises_a_quadratic_on_the_tape():
    tg.manual_seed(0)
    w = Parameter(np.zeros(3, dtype=np.float64))
    target = tg.Tensor(np.array([1.0, -2.0, 0.5]))
    opt = optim.Adam([w], lr=0.1)
    for _ in range(300):
        opt.zero_grad()
        loss = ((w - target) ** 2).sum()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(w.data, target.data, atol=1e-3)


def test_zero_grad():
    a, b = Parameter(np.ones(2)), Parameter(np.ones(3))
    opt = optim.SGD([a, b], lr=0.1)
    a.grad = np.ones(2, dtype=np.float32)
    opt.zero_grad(set_to_none=False)
    assert np.all(a.grad == 0) and b.grad is None
    opt.zero_grad()
    assert a.grad is None


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_float32_stays_float32(name, kwargs):
    init, grads = problem(seed=3)
    p32, p64 = make_params(init, np.float32), make_params(init)
    opt = getattr(optim, name)(p32, **kwargs)
    arrays = [p.data for p in p32]
    got = apply_steps(opt, p32, grads)
    want = apply_steps(getattr(optim, name)(p64, **kwargs), p64, grads)
    for p, arr, a, b in zip(p32, arrays, got, want):
        assert p.data is arr and a.dtype == np.float32
        assert all(v.dtype == np.float32 for v in opt.state[p].values() if isinstance(v, np.ndarray))
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


# ---- validation ---------------------------------------------------------------------------------------------------
INVALID = [
    ("SGD", dict(lr=-1.0), "Invalid learning rate: -1.0"),
    ("SGD", dict(momentum=-0.5), "Invalid momentum value: -0.5"),
    ("SGD", dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    ("SGD", dict(nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    ("SGD", dict(momentum=0.9, dampening=0.1, nesterov=True), "Nesterov momentum requires a momentum and zero "
                                                              "dampening"),
    ("Adam", dict(lr=-1.0), "Invalid learning rate: -1.0"),
    ("Adam", dict(betas=(1.5, 0.9)), "Invalid beta parameter at index 0: 1.5"),
    ("Adam", dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
    ("Adam", dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    ("AdamW", dict(weight_decay=-0.01), "Invalid weight_decay value: -0.01"),
    ("Adagrad", dict(lr_decay=-1), "Invalid lr_decay value: -1"),
    ("Adagrad", dict(initial_accumulator_value=-1), "Invalid initial_accumulator_value value: -1"),
    ("Adagrad", dict(eps=-1.0), "Invalid epsilon value: -1.0"),
    ("RMSprop", dict(alpha=-0.1), "Invalid alpha value: -0.1"),
    ("RMSprop", dict(momentum=-1), "Invalid momentum value: -1"),
    ("NAdam", dict(momentum_decay=-1), "Invalid momentum_decay value: -1"),
    ("NAdam", dict(betas=(0.9, 1.5)), "Invalid beta parameter at index 1: 1.5"),
    ("Adamax", dict(eps=-1.0), "Invalid epsilon value: -1.0"),
    ("Adadelta", dict(rho=1.5), "Invalid rho value: 1.5"),
]


@pytest.mark.parametrize("name,kwargs,message", INVALID, ids=[f"{n}-{m}" for n, _, m in INVALID])
def test_invalid_arguments(name, kwargs, message):
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        getattr(optim, name)([Parameter(np.zeros(2))], **kwargs)


@pytest.mark.parametrize("name,kwargs,message", INVALID, ids=[f"{n}-{m}" for n, _, m in INVALID])
def test_invalid_argument_messages_are_torchs(name, kwargs, message, torch):
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)


def test_invalid_params():
    with pytest.raises(ValueError, match="^optimizer got an empty parameter list$"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="^optimizer got an empty parameter list$"):
        optim.Adam(p for p in [])
    p = Parameter(np.zeros(2))
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)


def test_param_groups_and_repr():
    a, b = Parameter(np.zeros(2)), tg.Tensor(np.zeros(3), requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": b, "momentum": 0.9}], lr=0.1)
    assert [g["momentum"] for g in opt.param_groups] == [0, 0.9]
    assert opt.param_groups[1]["params"] == [b] and opt.param_groups[1]["lr"] == 0.1
    text = repr(opt)
    assert text.startswith("SGD (\nParameter Group 0\n    dampening: 0\n") and "momentum: 0.9" in text
    assert text.endswith("\n)")
