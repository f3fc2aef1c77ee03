"""The presets reproduce their sources: each preset's training step, run by `train` in float64, against a NumPy
transcription of the source's own equations (min-char-rnn's lossFun with its hand-derived BPTT and Adagrad;
nicodjimenez/lstm's LstmNode forward and top_diff_is backward; the Theano GRU step, whose gradient Theano derived,
checked by central differences), starting from the weights train's seed gives."""
import csv
import math

import numpy as np
import pytest

from tinygrad_rnn import checkpoint, rng
from tinygrad_rnn.apps.charlm import build_model, model_options
from tinygrad_rnn.apps.cli import main
from tinygrad_rnn.apps.data import Vocabulary, split, streams, windows
from tinygrad_rnn.apps.presets import PRESETS
from tinygrad_rnn.apps.sample import load_model
from train_inputs import CORPUS

F64 = ["--dtype", "float64", "--quiet", "--sample-every", "1000", "--plot", "none"]


def train(tmp_path, corpus, preset, *extra):
    out = str(tmp_path / f"{preset}.npz")
    assert main(["train", "--preset", preset, "--text", corpus, "--out", out, *F64, *extra]) == 0
    return out


def initial_weights(path):
    """The weights train started from: its seed (0) and the model the checkpoint's config describes."""
    saved = checkpoint.load(path)
    vocab = Vocabulary(saved["vocab"])
    rng.manual_seed(0)
    model = build_model(len(vocab), model_options(saved["config"], len(vocab)))
    return {k: np.array(v, dtype=np.float64) for k, v in model.state_dict().items()}, saved


def metrics(path):
    with open(path.replace(".npz", ".metrics.csv"), newline="") as f:
        return [{k: float(v) if v else None for k, v in row.items()} for row in csv.DictReader(f)]


def stream_windows(saved, batch, seq_len, steps):
    vocab = Vocabulary(saved["vocab"])
    train_ids, _ = split(vocab.encode(CORPUS))
    rows = streams(train_ids, batch)
    return [windows(rows, seq_len, k * seq_len) for k in range(steps)]


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# ---- min-char-rnn ---------------------------------------------------------------------------------------------------
def min_char_rnn_loss_fun(inputs, targets, hprev, Wxh, Whh, Why, bh, by):
    """min-char-rnn.py's lossFun: forward over the window, loss summed, hand-derived BPTT, gradients clipped ±5."""
    vocab_size = Wxh.shape[1]
    xs, hs, ps = {}, {-1: hprev.copy()}, {}
    loss = 0.0
    for t in range(len(inputs)):
        xs[t] = np.zeros((vocab_size, 1))
        xs[t][inputs[t]] = 1
        hs[t] = np.tanh(Wxh @ xs[t] + Whh @ hs[t - 1] + bh)
        ys = Why @ hs[t] + by
        ps[t] = np.exp(ys) / np.sum(np.exp(ys))
        loss += -np.log(ps[t][targets[t], 0])
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby, dhnext = np.zeros_like(bh), np.zeros_like(by), np.zeros_like(hs[0])
    for t in reversed(range(len(inputs))):
        dy = ps[t].copy()
        dy[targets[t]] -= 1
        dWhy += dy @ hs[t].T
        dby += dy
        dh = Why.T @ dy + dhnext
        dhraw = (1 - hs[t] * hs[t]) * dh
        dbh += dhraw
        dWxh += dhraw @ xs[t].T
        dWhh += dhraw @ hs[t - 1].T
        dhnext = Whh.T @ dhraw
    for dparam in (dWxh, dWhh, dWhy, dbh, dby):
        np.clip(dparam, -5, 5, out=dparam)
    return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]


def test_min_char_rnn_preset_is_min_char_rnn(tmp_path, corpus):
    steps = 3
    path = train(tmp_path, corpus, "min-char-rnn", "--hidden", "7", "--steps", str(steps))
    w, saved = initial_weights(path)
    config = saved["config"]
    assert (config["seq_len"], config["batch"], config["optimizer"], config["lr"], config["clip"],
            config["clip_value"], config["reduction"], config["one_hot"]) == (25, 1, "adagrad", 0.1, None, 5.0, "sum",
                                                                           True)
    vocab_size = len(saved["vocab"])
    np.testing.assert_array_equal(w["embedding.weight"], np.eye(vocab_size))    # one-hot characters
    params = {"Wxh": w["rnn.weight_ih_l0"], "Whh": w["rnn.weight_hh_l0"], "Why": w["decoder.weight"],
              "bih": w["rnn.bias_ih_l0"][:, None], "bhh": w["rnn.bias_hh_l0"][:, None], "by": w["decoder.bias"][:, None]}
    sums = {k: np.zeros_like(v) for k, v in params.items()}
    hprev = np.zeros((7, 1))
    losses = []
    for inputs, targets in stream_windows(saved, 1, 25, steps):
        loss, dWxh, dWhh, dWhy, dbh, dby, hprev = min_char_rnn_loss_fun(
            inputs[:, 0], targets[:, 0], hprev, params["Wxh"], params["Whh"], params["Why"],
            params["bih"] + params["bhh"], params["by"])
        losses.append(loss)
        grads = {"Wxh": dWxh, "Whh": dWhh, "Why": dWhy, "bih": dbh, "bhh": dbh, "by": dby}
        for k, g in grads.items():            # torch's Adagrad: G += g², θ -= lr g / (√G + 1e-10)
            sums[k] += g * g
            params[k] = params[k] - 0.1 * g / (np.sqrt(sums[k]) + 1e-10)
    trained = saved["model"]
    names = {"Wxh": "rnn.weight_ih_l0", "Whh": "rnn.weight_hh_l0", "Why": "decoder.weight", "bih": "rnn.bias_ih_l0",
             "bhh": "rnn.bias_hh_l0", "by": "decoder.bias"}
    for k, name in names.items():
        np.testing.assert_allclose(trained[name], params[k].reshape(trained[name].shape), rtol=0, atol=1e-12,
                                   err_msg=name)
    np.testing.assert_array_equal(trained["embedding.weight"], np.eye(vocab_size))   # the identity is not trained
    rows = metrics(path)
    np.testing.assert_allclose([r["loss"] * 25 for r in rows], losses, rtol=1e-12)     # the CSV's loss is per char


# ---- nicodjimenez/lstm ----------------------------------------------------------------------------------------------
def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def tutorial_lstm_step(xs, targets, w, state, clip=5.0, lr=0.1):
    """One SGD step of the tutorial LSTM under a softmax decoder: LstmNode.bottom_data_is forward from `state`
    (s, h), the loss summed over the window, LstmNode.top_diff_is backward (the tutorial's hand-derived BPTT) with
    dL/dh from the decoder; then the global gradient norm clipped to `clip` and θ -= lr g.
    -> (loss, new weights, the state at the window's end)."""
    E, H = w["embedding.weight"], w["rnn.weight_hh_l0"].shape[1]
    b = w["rnn.bias_ih_l0"] + w["rnn.bias_hh_l0"]
    W = {n: np.hstack((w["rnn.weight_ih_l0"][k * H:(k + 1) * H], w["rnn.weight_hh_l0"][k * H:(k + 1) * H]))
         for k, n in enumerate("ifgo")}
    B = {n: b[k * H:(k + 1) * H] for k, n in enumerate("ifgo")}
    Why, by = w["decoder.weight"], w["decoder.bias"]
    x_dim = E.shape[1]
    (s, h), nodes, loss = state, [], 0.0
    for x_id, y in zip(xs, targets):                          # forward (bottom_data_is)
        xc = np.hstack((E[x_id], h))
        g = np.tanh(W["g"] @ xc + B["g"])
        i, f, o = sigmoid(W["i"] @ xc + B["i"]), sigmoid(W["f"] @ xc + B["f"]), sigmoid(W["o"] @ xc + B["o"])
        s_prev, s = s, g * i + s * f
        h = s * o
        p = softmax(Why @ h + by)
        loss += -np.log(p[y])
        nodes.append(dict(xc=xc, g=g, i=i, f=f, o=o, s=s, s_prev=s_prev, h=h, p=p, y=y, x_id=x_id))
    grads = {n: np.zeros_like(v) for n, v in W.items()}
    bgrads = {n: np.zeros(H) for n in "ifgo"}
    dWhy, dby, dE = np.zeros_like(Why), np.zeros_like(by), np.zeros_like(E)
    diff_h, diff_s = np.zeros(H), np.zeros(H)
    for node in reversed(nodes):                              # backward (top_diff_is)
        dy = node["p"].copy()
        dy[node["y"]] -= 1
        dWhy += np.outer(dy, node["h"])
        dby += dy
        top_diff_h = Why.T @ dy + diff_h
        ds = node["o"] * top_diff_h + diff_s
        do = node["s"] * top_diff_h
        di, dg, df = node["g"] * ds, node["i"] * ds, node["s_prev"] * ds
        inputs = {"i": (1 - node["i"]) * node["i"] * di, "f": (1 - node["f"]) * node["f"] * df,
                  "o": (1 - node["o"]) * node["o"] * do, "g": (1 - node["g"] ** 2) * dg}
        dxc = np.zeros_like(node["xc"])
        for n, d in inputs.items():
            grads[n] += np.outer(d, node["xc"])
            bgrads[n] += d
            dxc += W[n].T @ d
        diff_s, diff_h = ds * node["f"], dxc[x_dim:]
        dE[node["x_id"]] += dxc[:x_dim]
    d_ih = np.vstack([grads[n][:, :x_dim] for n in "ifgo"])
    d_hh = np.vstack([grads[n][:, x_dim:] for n in "ifgo"])
    d_b = np.hstack([bgrads[n] for n in "ifgo"])
    g = {"embedding.weight": dE, "rnn.weight_ih_l0": d_ih, "rnn.weight_hh_l0": d_hh, "rnn.bias_ih_l0": d_b,
         "rnn.bias_hh_l0": d_b, "decoder.weight": dWhy, "decoder.bias": dby}
    norm = math.sqrt(sum(float((v * v).sum()) for v in g.values()))
    coef = min(clip / (norm + 1e-6), 1.0)                     # clip_grad_norm_
    return loss, {k: w[k] - lr * coef * g[k] for k in w}, (s, h)


def test_tutorial_lstm_preset_is_the_tutorials_lstm(tmp_path, corpus):
    path = train(tmp_path, corpus, "tutorial-lstm", "--hidden", "6", "--embedding", "4", "--seq-len", "9",
                 "--steps", "2")
    w, saved = initial_weights(path)
    assert saved["config"]["cell"] == "tutorial-lstm" and saved["config"]["optimizer"] == "sgd"
    losses, state = [], (np.zeros(6), np.zeros(6))
    for inputs, targets in stream_windows(saved, 1, 9, 2):     # one stream, the state carried (no gradient)
        loss, w, state = tutorial_lstm_step(inputs[:, 0], targets[:, 0], w, state)
        losses.append(loss)
    for name, value in saved["model"].items():
        np.testing.assert_allclose(value, w[name], rtol=0, atol=1e-12, err_msg=name)
    np.testing.assert_allclose([r["loss"] * 9 for r in metrics(path)], losses, rtol=1e-12)


def test_tutorial_lstm_preset_carries_the_state_across_windows(tmp_path, corpus):
    """The tutorial feeds one long sequence: the second window starts from the first one's state, so its loss is
    not the loss of the same window started from zero (what --no-carry-state would give)."""
    carried = metrics(train(tmp_path, corpus, "tutorial-lstm", "--hidden", "6", "--seq-len", "9", "--steps", "2",
                            "--lr", "1e-300"))                 # (weights that do not move: only the state differs)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    zero = metrics(train(fresh, corpus, "tutorial-lstm", "--hidden", "6", "--seq-len", "9", "--steps", "2",
                         "--lr", "1e-300", "--no-carry-state"))
    assert carried[0]["loss"] == zero[0]["loss"] and carried[1]["loss"] != zero[1]["loss"]


# ---- the Theano GRU ------------------------------------------------------------------------------------------------
def hard_sigmoid(x):
    """theano.tensor.nnet.hard_sigmoid: clip(0.2 x + 0.5, 0, 1)."""
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)


def theano_gru_params(w, layers):
    """The source's parameters from ours: E (embedding, one column per word), and per layer U, W (3, H, ·) and
    b (3, H) in the source's gate order z, r, c (ours: r, z, n rows of weight_ih/weight_hh, and b = b_ih + b_hh)."""
    H = w["rnn.weight_hh_l0"].shape[1]
    out = {"E": w["embedding.weight"].T, "V": w["decoder.weight"], "c": w["decoder.bias"], "layers": []}
    for k in range(layers):
        wi, wh = w[f"rnn.weight_ih_l{k}"], w[f"rnn.weight_hh_l{k}"]
        b = w[f"rnn.bias_ih_l{k}"] + w[f"rnn.bias_hh_l{k}"]
        order = (1, 0, 2)                                      # z is our block 1, r block 0, the candidate block 2
        out["layers"].append((np.stack([wi[j * H:(j + 1) * H] for j in order]),
                              np.stack([wh[j * H:(j + 1) * H] for j in order]),
                              np.stack([b[j * H:(j + 1) * H] for j in order])))
    return out


def theano_gru_forward(p, x_ids):
    """The source's forward_prop_step over one sequence from zero states: x_e = E[:, x_t]; per layer
    z = hard_sigmoid(U[0] x + W[0] s + b[0]), r = hard_sigmoid(U[1] x + W[1] s + b[1]),
    c = tanh(U[2] x + W[2] (s r) + b[2]), s = (1 - z) c + z s; o_t = softmax(V s_top + c). -> o (T, V)."""
    states = [np.zeros(W.shape[1]) for _, W, _ in p["layers"]]
    outputs = []
    for x_t in x_ids:
        x = p["E"][:, x_t]
        for k, (U, W, b) in enumerate(p["layers"]):
            s = states[k]
            z = hard_sigmoid(U[0] @ x + W[0] @ s + b[0])
            r = hard_sigmoid(U[1] @ x + W[1] @ s + b[1])
            c = np.tanh(U[2] @ x + W[2] @ (s * r) + b[2])
            states[k] = x = (np.ones_like(z) - z) * c + z * s
        outputs.append(softmax(p["V"] @ x + p["c"]))
    return np.array(outputs)


def theano_gru_loss(w, inputs, targets, layers):
    """Cross-entropy averaged over the window's characters (the preset's departure: the source sums a sentence's),
    every sequence from a zero state (BPTT over whole windows)."""
    p = theano_gru_params(w, layers)
    total = 0.0
    for b in range(inputs.shape[1]):
        o = theano_gru_forward(p, inputs[:, b])
        total += -np.log(o[np.arange(len(o)), targets[:, b]]).sum()
    return total / inputs.size


THEANO_SIZE = ["--hidden", "3", "--embedding", "2", "--seq-len", "5", "--batch", "2"]


def test_theano_gru_preset_step_equals_the_sources_equations(tmp_path, corpus):
    one = train(tmp_path, corpus, "theano-gru", *THEANO_SIZE, "--steps", "1")
    (tmp_path / "two").mkdir()
    two = train(tmp_path / "two", corpus, "theano-gru", *THEANO_SIZE, "--steps", "2")
    w0, saved = initial_weights(one)
    config = saved["config"]
    assert (config["cell"], config["gate_activation"], config["layers"], config["optimizer"],
            config["carry_state"]) == ("gru-cho", "hard_sigmoid", 2, "sgd", False)
    (x1, y1), (x2, y2) = stream_windows(saved, 2, 5, 2)
    w1 = {k: np.asarray(v) for k, v in saved["model"].items()}
    rows = metrics(two)
    np.testing.assert_allclose(rows[0]["loss"], theano_gru_loss(w0, x1, y1, 2), rtol=1e-12)
    # step 2 starts from a zero state again (BPTT over whole windows), at the weights step 1 left
    np.testing.assert_allclose(rows[1]["loss"], theano_gru_loss(w1, x2, y2, 2), rtol=1e-12)
    # the model that sample rebuilds from the checkpoint runs the source's step
    model, _ = load_model(one)
    logits, _ = model(x2)
    for b in range(2):
        np.testing.assert_allclose(softmax(logits.data[:, b]), theano_gru_forward(theano_gru_params(w1, 2), x2[:, b]),
                                   rtol=0, atol=1e-12)


def test_theano_gru_update_is_sgd_on_the_sources_gradient(tmp_path, corpus):
    """The weights after one step are w0 - lr·clip(∇L), with ∇L (Theano's T.grad in the source) from central
    differences of the transcription, to the differences' accuracy, and the gradient norm clipped to 5."""
    path = train(tmp_path, corpus, "theano-gru", *THEANO_SIZE, "--steps", "1")
    w0, saved = initial_weights(path)
    ((x1, y1),) = stream_windows(saved, 2, 5, 1)
    eps, grads = 1e-6, {}
    for name, value in w0.items():
        g = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            plus, minus = dict(w0), dict(w0)
            plus[name], minus[name] = value.copy(), value.copy()
            plus[name][index] += eps
            minus[name][index] -= eps
            g[index] = (theano_gru_loss(plus, x1, y1, 2) - theano_gru_loss(minus, x1, y1, 2)) / (2 * eps)
        grads[name] = g
    norm = math.sqrt(sum(float((g * g).sum()) for g in grads.values()))
    coef = min(5.0 / (norm + 1e-6), 1.0)
    lr = saved["config"]["lr"]
    for name, value in saved["model"].items():
        np.testing.assert_allclose(value, w0[name] - lr * coef * grads[name], rtol=0, atol=1e-7, err_msg=name)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_each_preset_says_its_source_and_departures_in_help(name, run_main):
    help_text = " ".join(run_main(["train", "--help"]).stdout.split())
    preset = PRESETS[name]
    assert f"{name}: follows {' '.join(preset.source.split())}" in help_text
    assert f"Departs: {' '.join(preset.departures.split())}" in help_text


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_each_preset_trains_and_samples_from_its_checkpoint(tmp_path, corpus, name, run_main):
    path = str(tmp_path / "p.npz")
    assert run_main(["train", "--preset", name, "--text", corpus, "--out", path, *F64, "--hidden", "8", "--steps",
                     "2", "--seq-len", "8"]).returncode == 0
    saved = checkpoint.load(path)
    for key, value in PRESETS[name].options.items():       # the preset's values, recorded (the sizes given win)
        if key not in ("hidden", "seq_len", "steps"):
            assert saved["config"][key] == (None if value == "none" else value), key
    samples = [run_main(["sample", path, "--prime", "the ", "--length", "25", "--seed", "4"]).stdout
               for _ in range(2)]
    assert samples[0] == samples[1] and samples[0].startswith("the ") and len(samples[0].rstrip("\n")) == 29
