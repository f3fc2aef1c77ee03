"""`python -m tinygrad_rnn compare`: every cell trained the same way on two tasks, side by side — the small-scale
version of the comparison the source texts cite (Greff et al. 2015, "LSTM: A Search Space Odyssey": the LSTM
variants perform about the same, none is always best).

Every cell gets the same data, the same seed, the same number of steps, the same optimiser and the same parameter
budget: its hidden size is the one whose parameter count is closest to the LSTM's at --hidden (within ±10%; the
table says when a cell cannot get there). The tasks: the character language model of `train` (validation bits
per character) and the adding problem (test MSE; 1/6 is what always answering 1.0 scores). Time per step is the
wall time of the training steps alone, measured in this one process, one cell after another: a rough guide, not
a benchmark (see `bench` for those).
"""
import math
import time

import numpy as np

from .. import manual_seed, nn, no_grad, optim, tensor
from . import adding
from .charlm import CharLM, detach_state
from .cli import UsageError, int_at_least, positive_int, random_seed
from .data import MAX_TEXT_BYTES, DataError, Vocabulary, default_corpus, read_text, split, streams, windows
from .files import check_output_target, require_regular_file, write_atomically
from .metrics import have_matplotlib
from .models import CELLS, DEFAULT_PERIODS
from .train import evaluate
from ..nn.functional import cross_entropy

HELP = "train every cell on the char-LM and the adding problem with one parameter budget, and compare them"
PROFILES = {   # the full run, and --quick (under 3 minutes on the 2-core build machine)
    "full": dict(hidden=128, layers=2, embedding=64, seq_len=64, batch=32, steps=1000, eval_every=100,
                 adding_length=100, adding_hidden=64, adding_steps=2000, adding_batch=32),
    "quick": dict(hidden=24, layers=2, embedding=16, seq_len=32, batch=8, steps=60, eval_every=20,
                  adding_length=20, adding_hidden=12, adding_steps=100, adding_batch=16),
}
BUDGET_TOLERANCE = 0.10
LM_LR, ADDING_LR, LM_CLIP, ADDING_CLIP = 3e-3, 1e-2, 5.0, 1.0
ADDING_TEST_SIZE = 1000


def add_arguments(parser):
    full, quick = PROFILES["full"], PROFILES["quick"]

    def sizes(key):
        return f"(default {full[key]}; with --quick {quick[key]})"
    parser.description = __doc__.split("\n\n")[0].replace("`", "") + " " + __doc__.split("\n\n")[1]
    parser.add_argument("--quick", action="store_true", help="small sizes and few steps: a smoke run, not a result")
    parser.add_argument("--cells", default=",".join(CELLS), help=f"comma-separated, of {', '.join(CELLS)}")
    parser.add_argument("--hidden", type=positive_int, help="the LSTM's hidden size, which sets the parameter "
                        "budget of the char-LM " + sizes("hidden"))
    parser.add_argument("--layers", type=int_at_least(2), help="stacked layers in both tasks (at least 2: the "
                        "depth-gated LSTM's gate links two layers) " + sizes("layers"))
    parser.add_argument("--embedding", type=positive_int, help="the char-LM's embedding size " + sizes("embedding"))
    parser.add_argument("--seq-len", type=int_at_least(1), help="characters per window " + sizes("seq_len"))
    parser.add_argument("--batch", type=positive_int, help="streams per char-LM step " + sizes("batch"))
    parser.add_argument("--steps", type=positive_int, help="char-LM steps per cell " + sizes("steps"))
    parser.add_argument("--eval-every", type=positive_int, help="steps between validations (the curves) "
                        + sizes("eval_every"))
    parser.add_argument("--adding-length", type=int_at_least(2), help="the adding problem's T " +
                        sizes("adding_length"))
    parser.add_argument("--adding-hidden", type=positive_int, help="the LSTM's hidden size on the adding problem, "
                        "which sets its budget " + sizes("adding_hidden"))
    parser.add_argument("--adding-steps", type=positive_int, help="adding-problem steps per cell " +
                        sizes("adding_steps"))
    parser.add_argument("--adding-batch", type=positive_int, help="sequences per adding-problem step " +
                        sizes("adding_batch"))
    parser.add_argument("--text", help="a UTF-8 text file for the char-LM (default: Python standard library "
                        "sources, as train)")
    parser.add_argument("--max-text-bytes", type=positive_int, default=MAX_TEXT_BYTES,
                        help="refuse a --text file larger than this")
    parser.add_argument("--seed", type=random_seed, default=0, help="seeds every cell's weights and the data")
    parser.add_argument("--out", default="compare.png", help="PNG of the validation curves (drawn when matplotlib "
                        "is installed; none: no plot)")
    parser.add_argument("--csv", help="CSV of the table and the curves (default: none)")
    parser.add_argument("--force", action="store_true", help="let --out and --csv replace existing files")
    parser.add_argument("--threads", type=positive_int, default=1, help="BLAS threads")


def settings(args):
    """The run's sizes: the profile's (full, or --quick), each replaced by the command line's when given."""
    profile = dict(PROFILES["quick" if args.quick else "full"])
    for key in profile:
        given = getattr(args, key)
        if given is not None:
            profile[key] = given
    return profile


def parse_cells(text):
    cells = [c.strip() for c in text.split(",") if c.strip()]
    unknown = [c for c in cells if c not in CELLS]
    if unknown or not cells or len(set(cells)) != len(cells):
        raise UsageError(f"--cells: expected distinct cells of {', '.join(CELLS)}, comma-separated, but got "
                         f"{text!r}")
    return cells


def count(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def hidden_for_budget(build, target, multiple=1):
    """(hidden, parameters): the hidden size, a multiple of `multiple`, whose model build(hidden) has the parameter
    count closest to `target`. The count grows with the hidden size: doubling finds a size at or above the target
    (without ever building a model much larger than it), a binary search the first such size, and the closer of
    it and the size before wins."""
    def size(k):
        return count(build(k * multiple))
    hi = 1
    while size(hi) < target:
        hi *= 2
    lo = hi // 2 + 1 if hi > 1 else 1              # size(hi // 2) < target, in units of `multiple`
    while lo < hi:
        mid = (lo + hi) // 2
        if size(mid) < target:
            lo = mid + 1
        else:
            hi = mid
    sized = [(k * multiple, size(k)) for k in (lo - 1, lo) if k >= 1]
    return min(sized, key=lambda hp: abs(hp[1] - target))


def clockwork_multiple(cell):
    return len(DEFAULT_PERIODS) if cell == "clockwork" else 1


def lm_model(cell, hidden, vocab_size, s, dtype=np.float32):
    forget_bias = 1.0 if CELLS[cell].forget_gate else None
    return CharLM(vocab_size, hidden, s["layers"], cell, embedding=s["embedding"], dtype=dtype,
                  forget_bias=forget_bias)


def train_lm(cell, hidden, rows, valid_ids, vocab_size, s, seed):
    """The char-LM of `train` (Adam, clip 5, truncated BPTT with the state carried): validation bits per character
    every eval_every steps -> (curve [(step, bpc)], seconds per step)."""
    manual_seed(seed)
    model = lm_model(cell, hidden, vocab_size, s)
    parameters = model.trainable_parameters()
    optimizer = optim.Adam(parameters, lr=LM_LR)
    state, curve, seconds = None, [], 0.0
    for step in range(1, s["steps"] + 1):
        inputs, targets = windows(rows, s["seq_len"], (step - 1) * s["seq_len"])
        started = time.perf_counter()
        logits, state = model(inputs, state)
        T, B, V = logits.shape
        loss = cross_entropy(logits.reshape(T * B, V), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optim.clip_grad_norm_(parameters, LM_CLIP)
        optimizer.step()
        state = detach_state(state)
        seconds += time.perf_counter() - started
        if not math.isfinite(loss.item()):
            curve.append((step, math.nan))
            break
        if step % s["eval_every"] == 0 or step == s["steps"]:
            curve.append((step, evaluate(model, valid_ids, s["batch"], s["seq_len"])))
    return curve, seconds / step


def train_adding(cell, hidden, s, seed):
    """The adding problem (adding.py's data, Adam, clip 1): test MSE on ADDING_TEST_SIZE fixed sequences every
    eval_every steps -> (curve [(step, mse)], seconds per step)."""
    manual_seed(seed)
    data = np.random.default_rng(seed)
    x_test, y_test = adding.batch(np.random.default_rng(seed + 1), s["adding_length"], ADDING_TEST_SIZE)
    model = adding.Regressor(cell, hidden, s["layers"])
    optimizer = optim.Adam(model.parameters(), lr=ADDING_LR)
    every = max(1, s["eval_every"] * s["adding_steps"] // max(1, s["steps"]))
    curve, seconds = [], 0.0
    for step in range(1, s["adding_steps"] + 1):
        x, y = adding.batch(data, s["adding_length"], s["adding_batch"])
        started = time.perf_counter()
        loss = nn.functional.mse_loss(model(x), tensor(y))
        optimizer.zero_grad()
        loss.backward()
        optim.clip_grad_norm_(model.parameters(), ADDING_CLIP)
        optimizer.step()
        seconds += time.perf_counter() - started
        if step % every == 0 or step == s["adding_steps"]:
            with no_grad():
                curve.append((step, float(((model(x_test).data - y_test) ** 2).mean())))
    return curve, seconds / s["adding_steps"]


def load_text(args):
    try:
        if args.text:
            require_regular_file(args.text, f"--text {args.text}")
            return read_text(args.text, args.max_text_bytes)
        return default_corpus()
    except DataError as err:
        raise UsageError(str(err)) from None


def run(args):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(args.threads):
        return compare(args)


def compare(args):
    s, cells = settings(args), parse_cells(args.cells)
    out = None if args.out.strip().lower() == "none" else args.out
    for path, what in ((out, "--out"), (args.csv, "--csv")):
        if path is not None:
            check_output_target(path, what, text=args.text, force=args.force)
    text = load_text(args)
    vocab = Vocabulary(text)
    train_ids, valid_ids = split(vocab.encode(text))
    if s["seq_len"] % math.lcm(*DEFAULT_PERIODS) and "clockwork" in cells:
        raise UsageError(f"--seq-len {s['seq_len']} is not a multiple of {math.lcm(*DEFAULT_PERIODS)}, the clockwork "
                         f"periods' {','.join(map(str, DEFAULT_PERIODS))} least common multiple")
    if len(train_ids) < s["batch"] * (s["seq_len"] + 1) or len(valid_ids) < s["seq_len"] + 1:
        raise UsageError(f"the text is too short ({len(text)} characters) for --batch {s['batch']} and "
                         f"--seq-len {s['seq_len']}")
    rows = streams(train_ids, s["batch"])
    lm_target = count(lm_model("lstm", s["hidden"], len(vocab), s))
    adding_target = count(adding.Regressor("lstm", s["adding_hidden"], s["layers"]))
    print(f"compare: {len(cells)} cells, {s['layers']} layers; char-LM {s['steps']} steps of {s['batch']}×"
          f"{s['seq_len']} characters, budget {lm_target:,} parameters (the LSTM at hidden {s['hidden']}); adding "
          f"problem T={s['adding_length']}, {s['adding_steps']} steps of {s['adding_batch']}, budget "
          f"{adding_target:,} (the LSTM at hidden {s['adding_hidden']}); seed {args.seed}", flush=True)
    results = {}
    for cell in cells:
        multiple = clockwork_multiple(cell)
        lm_hidden, lm_params = hidden_for_budget(lambda h: lm_model(cell, h, len(vocab), s), lm_target, multiple)
        add_hidden, add_params = hidden_for_budget(lambda h: adding.Regressor(cell, h, s["layers"]), adding_target,
                                                   multiple)
        lm_curve, lm_time = train_lm(cell, lm_hidden, rows, valid_ids, len(vocab), s, args.seed)
        add_curve, add_time = train_adding(cell, add_hidden, s, args.seed)
        results[cell] = dict(lm_hidden=lm_hidden, lm_params=lm_params, lm_curve=lm_curve, lm_time=lm_time,
                             add_hidden=add_hidden, add_params=add_params, add_curve=add_curve, add_time=add_time)
        print(f"  {cell}: hidden {lm_hidden} ({lm_params:,} parameters), validation {lm_curve[-1][1]:.3f} bpc, "
              f"{lm_time * 1e3:.1f} ms/step; adding: hidden {add_hidden} ({add_params:,}), MSE "
              f"{add_curve[-1][1]:.4f}, {add_time * 1e3:.1f} ms/step", flush=True)
    print()
    print(table(results, lm_target, adding_target))
    if args.csv is not None:
        write_atomically(args.csv, csv_text(results).encode("utf-8"))
        print(f"wrote {args.csv}")
    if out is not None:
        if have_matplotlib():
            plot(out, results, s)
            print(f"wrote {out}")
        else:
            print(f"matplotlib is not installed, so {out} was not drawn (pip install matplotlib)")
    return 0


def _within(params, target):
    return abs(params - target) <= BUDGET_TOLERANCE * target


def table(results, lm_target, adding_target):
    """The comparison as a Markdown table (it reads as text too)."""
    lines = ["| cell | hidden | parameters | valid bits/char | adding hidden | adding parameters | adding MSE | "
             "ms/step (char-LM) | ms/step (adding) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for cell, r in results.items():
        flag = "" if _within(r["lm_params"], lm_target) else " (outside ±10%)"
        add_flag = "" if _within(r["add_params"], adding_target) else " (outside ±10%)"
        lines.append(f"| {cell} | {r['lm_hidden']} | {r['lm_params']:,}{flag} | {r['lm_curve'][-1][1]:.3f} | "
                     f"{r['add_hidden']} | {r['add_params']:,}{add_flag} | {r['add_curve'][-1][1]:.4f} | "
                     f"{r['lm_time'] * 1e3:.1f} | {r['add_time'] * 1e3:.1f} |")
    lines.append(f"(adding MSE {adding.BASELINE:.3f} = always answering 1.0; below {adding.SOLVED} = solved)")
    return "\n".join(lines)


def csv_text(results):
    rows = ["cell,task,hidden,parameters,step,value,ms_per_step"]
    for cell, r in results.items():
        for task, curve, hidden, params, seconds in (("char_lm_valid_bpc", r["lm_curve"], r["lm_hidden"],
                                                      r["lm_params"], r["lm_time"]),
                                                     ("adding_test_mse", r["add_curve"], r["add_hidden"],
                                                      r["add_params"], r["add_time"])):
            rows += [f"{cell},{task},{hidden},{params},{step},{value!r},{seconds * 1e3!r}" for step, value in curve]
    return "\n".join(rows) + "\n"


def plot(path, results, s):
    """Two panels: validation bits per character and adding-problem test MSE against the step, one line per cell."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 4.6), layout="constrained")
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2)
    for cell, r in results.items():
        style = dict(ls="--") if not CELLS[cell].gated else {}
        left.plot(*zip(*r["lm_curve"]), marker=".", label=f"{cell} ({r['lm_params']:,})", **style)
        right.plot(*zip(*r["add_curve"]), marker=".", label=f"{cell} ({r['add_params']:,})", **style)
    left.set(title=f"char-LM: validation, {s['layers']} layers, {s['steps']} steps of {s['batch']}×{s['seq_len']}",
             xlabel="step", ylabel="bits per character", yscale="log")  # a cell that diverges
    # (the tutorial LSTM under Adam: 135-330 bits) would flatten every other curve on a linear axis
    right.axhline(adding.BASELINE, color="grey", lw=0.8, ls=":", label="always 1.0")
    right.set(title=f"adding problem, T = {s['adding_length']}", xlabel="step", ylabel="test MSE", yscale="log")
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, title="cell (parameters)", title_fontsize=7)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    write_atomically(path, buffer.getvalue())
