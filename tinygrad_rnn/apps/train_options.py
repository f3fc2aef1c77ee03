"""`train`'s options: the command line, and where each value comes from.

A model option (MODEL_DEFAULTS) is the command line's, else the preset's, else the default; with --resume it is the
checkpoint's, and a different value on the command line is an error (it would be another model). A training option
(TRAINING_DEFAULTS) is the command line's if given, else the checkpoint's (with --resume), else the preset's, else
the default; a given value that replaces a different checkpoint value is reported. Every value used is recorded in
the checkpoint's config, so `--resume` and `sample` rebuild the same model and training.
"""
import argparse
import math
import numbers
from dataclasses import dataclass

from .charlm import MODEL_KEYS, model_options
from .cli import UsageError, _number, positive_float, positive_int, probability, random_seed
from .data import MAX_TEXT_BYTES
from .models import CELLS, DEFAULT_PERIODS, cell_help, check_cell_options, parse_periods
from .presets import PRESETS, preset_help
from .schedules import SCHEDULERS
from .. import optim

MODEL_DEFAULTS = dict(cell="lstm", hidden=128, layers=2, dropout=0.0, dtype="float32", embedding=None,
                      one_hot=False, gate_activation="sigmoid", forget_bias=None, periods=None)
REQUIRED_MODEL_KEYS = ("cell", "hidden", "layers", "dropout", "dtype")   # in every checkpoint train ever wrote
TRAINING_DEFAULTS = dict(seq_len=64, batch=32, lr=3e-3, optimizer="adam", clip=5.0, clip_value=None,
                         weight_decay=None, scheduler="none", lr_step_size=None, lr_gamma=0.1, lr_min=0.0,
                         lr_patience=2, carry_state=True, reduction="mean", eval_every=200)
DEFAULT_STEPS = 1000
OPTIMIZERS = {"adam": optim.Adam, "adamw": optim.AdamW, "sgd": optim.SGD, "adagrad": optim.Adagrad,
              "rmsprop": optim.RMSprop}
SLOTS = {"adam": 2, "adamw": 2, "sgd": 1, "adagrad": 1, "rmsprop": 2}    # state arrays per weight (sgd: momentum)
REDUCTIONS = ("mean", "sum")
NONE = "none"        # what --clip none and --clip-value none give: no clipping
CLIPS = ("clip", "clip_value")
BIDIRECTIONAL_REASON = ("a language model predicts each character from the ones before it; a backward layer "
                        "would read the very characters it is asked to predict, so it would learn to copy them "
                        "instead (use nn.LSTM(bidirectional=True) in a model that tags or classifies whole "
                        "sequences)")

HELP = "train a character-level language model (default corpus: Python's own standard library sources)"
DESCRIPTION = HELP + """. With --resume, the model options (--cell, --hidden, --layers, --dropout, --dtype,
--embedding, --one-hot, --gate-activation, --forget-bias, --periods) come from the checkpoint (a different value is
an error); the training options saved in it (--seq-len, --batch, --lr, --optimizer, --clip, --clip-value,
--weight-decay, --scheduler and its --lr-* options, --carry-state, --reduction, --eval-every, --steps, and the
random state) are the
checkpoint's unless given on the command line, and those given win and are reported. A --preset sets defaults that
options given on the command line override. --out must be a new file or the checkpoint that --resume names
(--force replaces another file); it is checked before training starts, as are the metrics CSV and the loss-curve PNG
written beside it. Ctrl-C or SIGTERM saves a checkpoint and exits with 130 or 143; a loss or gradient that is no
longer finite stops the run (exit 1) without saving over the last checkpoint."""


def _clip_type(text):
    """--clip / --clip-value: a positive finite number, or none (no clipping)."""
    if text.strip().lower() == NONE:
        return NONE
    return positive_float(text)


nonnegative_float = _number(float, lambda v: 0 <= v < math.inf, "a finite number >= 0")
factor = _number(float, lambda v: 0 < v < 1, "a number in (0, 1)")
finite_float = _number(float, math.isfinite, "a finite number")


def add_arguments(parser):
    parser.description = DESCRIPTION
    add = parser.add_argument
    add("--preset", choices=sorted(PRESETS), help="the options of a model of the source texts (default: none). "
        + preset_help())
    add("--text", help="a UTF-8 text file (default: Python standard library sources)")
    add("--max-text-bytes", type=positive_int, default=MAX_TEXT_BYTES,
        help=f"refuse a --text file larger than this (default {MAX_TEXT_BYTES:,})")
    # the model
    add("--cell", choices=list(CELLS), help="recurrent cell (default lstm). " + cell_help())
    add("--hidden", type=positive_int, help="hidden units per layer (default 128)")
    add("--layers", type=positive_int, help="stacked layers (default 2)")
    add("--embedding", type=positive_int, help="embedding size (default min(hidden, 64))")
    add("--one-hot", action="store_const", const=True, help="feed characters as one-hot vectors (the embedding is "
        "the identity, not trained), as min-char-rnn does (default: off, a trained embedding)")
    add("--gate-activation", choices=["sigmoid", "hard_sigmoid"],
        help="the gates' activation: sigmoid, or hard_sigmoid = clip(0.2x + 0.5, 0, 1) as Keras and Theano "
             "(default sigmoid; cells with gates only)")
    add("--forget-bias", type=finite_float, help="initial forget-gate bias, e.g. 1 to start remembering "
        "(Gers et al. 2000; default: PyTorch's uniform init; LSTM cells only)")
    add("--periods", type=parse_periods, help="the clockwork modules' periods, comma-separated and increasing "
        f"(default {','.join(map(str, DEFAULT_PERIODS))}; --cell clockwork only; --hidden must divide into that "
        "many equal modules)")
    add("--dropout", type=probability, help="dropout between layers and before the decoder (default 0)")
    add("--dtype", choices=["float32", "float64"], help="float32 (default) or float64")
    add("--bidirectional", action="store_true",
        help="not offered for a language model (refused with exit code 2): " + BIDIRECTIONAL_REASON)
    # the training
    add("--seq-len", type=positive_int, help="characters per window (TBPTT length; default 64)")
    add("--batch", type=positive_int, help="parallel streams (default 32)")
    add("--carry-state", action=argparse.BooleanOptionalAction, default=None,
        help="carry the recurrent state from one window of a stream into the next (truncated BPTT, as "
             "min-char-rnn); --no-carry-state starts every window from zero (default: carry)")
    add("--steps", type=positive_int, help=f"optimisation steps in all (default {DEFAULT_STEPS}, or the preset's; "
        "on --resume, the checkpoint's)")
    add("--lr", type=positive_float, help="learning rate (default 0.003)")
    add("--optimizer", choices=sorted(OPTIMIZERS), help="the optimiser, torch.optim's formulas (default adam)")
    add("--weight-decay", type=nonnegative_float, help="L2 penalty: λ·w added to each gradient, or, with "
        "--optimizer adamw, AdamW's decoupled decay (default: the optimiser's, 0, or 0.01 for adamw)")
    add("--reduction", choices=REDUCTIONS, help="the loss over a window: the mean over its characters, or their "
        "sum as min-char-rnn (default mean)")
    add("--clip", type=_clip_type, help="max global gradient norm, or none (default 5)")
    add("--clip-value", type=_clip_type, help="clip every gradient element to ±this, as min-char-rnn's ±5, "
        "before --clip (default none)")
    add("--scheduler", choices=list(SCHEDULERS), help="learning-rate schedule (default none). "
        + "; ".join(f"{k}: {v}" for k, v in SCHEDULERS.items()))
    add("--lr-step-size", type=positive_int, help="--scheduler step: steps between decays (default --steps / 4)")
    add("--lr-gamma", type=factor, help="--scheduler step and plateau: the factor of each decay (default 0.1)")
    add("--lr-min", type=nonnegative_float, help="--scheduler cosine and plateau: the lowest rate (default 0)")
    add("--lr-patience", type=_number(int, lambda v: v >= 0, "an integer >= 0"),
        help="--scheduler plateau: validations without improvement before a decay (default 2)")
    add("--seed", type=random_seed, help="seeds weight init and dropout (default 0; on --resume, replaces the "
        "checkpoint's random state)")
    # the files
    add("--out", default="char_lm.safetensors", help="checkpoint file, written atomically (default "
        "char_lm.safetensors)")
    add("--resume", help="continue from this checkpoint (default: start afresh)")
    add("--force", action="store_true",
        help="let --out, --metrics and --plot replace existing files that are not this run's")
    add("--metrics", help="CSV of step, loss, bits per char, lr, chars/s and validation (default: beside --out, "
        "OUT.metrics.csv; none: no file)")
    add("--plot", help="loss-curve PNG, drawn when matplotlib is installed (default: beside --out, OUT.loss.png; "
        "none: no plot)")
    add("--save-every", type=positive_int, default=200, help="steps between checkpoints")
    add("--eval-every", type=positive_int, help="steps between validations (bits per char on the held-out text, "
        "in the metrics CSV; --scheduler plateau steps on them; default 200)")
    add("--sample-every", type=positive_int, default=200, help="steps between printed samples")
    add("--log-every", type=positive_int, default=100,
        help="steps between progress lines when the output is not a terminal (on one, a progress bar)")
    add("--threads", type=positive_int, default=1,
        help="threads for BLAS and for the kernels' own OpenMP split of large products (default 1: the GEMMs per "
             "step are small, and numpy's and scipy's OpenBLAS pools would otherwise compete for the cores)")
    add("--quiet", action="store_true", help="no progress bar or progress lines")


def _shown(key, value):
    if isinstance(value, bool):
        return f"--{key.replace('_', '-')}" if value else f"--no-{key.replace('_', '-')}"
    if isinstance(value, (tuple, list)):
        value = ",".join(map(str, value))
    return f"--{key.replace('_', '-')} {value}"


def _same(a, b):
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return tuple(a) == tuple(b)
    return a == b


@dataclass
class Resolved:
    """The values a run uses: model and training options (both recorded in the checkpoint's config), the steps to
    reach, the preset, the given options that replace a checkpoint's, and whether the schedule starts afresh."""
    model: dict
    training: dict
    steps: int
    preset: str
    overrides: list
    schedule_restarts: bool


SCHEDULE_KEYS = ("scheduler", "lr", "lr_step_size", "lr_gamma", "lr_min", "lr_patience")


def resolve(args, saved, vocab_size):
    """The Resolved values of a run: each from the command line, the checkpoint (`saved`, when resuming), the
    preset or the default, as the module docstring says. UsageError for what cannot be."""
    if args.bidirectional:
        raise UsageError("--bidirectional: not offered for a language model: " + BIDIRECTIONAL_REASON)
    recorded = dict(saved["config"]) if saved else {}
    preset_name = args.preset
    if saved and preset_name is not None and preset_name != recorded.get("preset"):
        raise UsageError(f"--preset {preset_name} does not match the checkpoint {args.resume} (preset="
                         f"{recorded.get('preset') or 'none'}): it was trained as another model")
    if saved:
        preset_name = recorded.get("preset")
    preset = PRESETS[preset_name].options if preset_name in PRESETS else {}
    model = _model_options(args, saved, recorded, preset, preset_name, vocab_size)

    if args.steps is not None:
        steps = args.steps
    elif saved:                       # the run's own target: a resumed run finishes what it set out to do
        steps = recorded.get("steps", DEFAULT_STEPS)
    else:
        steps = preset.get("steps", DEFAULT_STEPS)
    training, overrides = {}, []
    if saved and "lr" not in recorded and saved["optimizer"] is not None and saved["optimizer"]["param_groups"]:
        recorded["lr"] = saved["optimizer"]["param_groups"][0].get("lr")    # checkpoints from before "lr" was saved
    changed = set()
    for key, default in TRAINING_DEFAULTS.items():
        given = getattr(args, key)
        if given is not None:
            value = None if key in CLIPS and given == NONE else given
            if key in recorded and not _same(value, recorded[key]):
                overrides.append(f"{_shown(key, given)} (checkpoint: {recorded[key]})")
                changed.add(key)
        elif key in recorded:
            value = recorded[key]
        else:
            value = preset.get(key, default)
            value = None if key in CLIPS and value == NONE else value
        training[key] = value
    if saved and args.seed is not None:
        overrides.append(f"--seed {args.seed} (replaces the checkpoint's random state)")
    if args.weight_decay is None and (training["weight_decay"] is None or "optimizer" in changed):
        training["weight_decay"] = 0.01 if training["optimizer"] == "adamw" else 0.0   # torch.optim's defaults
    training["steps"] = steps
    if training["lr_step_size"] is None:
        training["lr_step_size"] = max(1, steps // 4)
    restarts = bool(saved) and bool(changed & set(SCHEDULE_KEYS)) and training["scheduler"] != "none"
    if not saved:
        training["lr_t_max"] = steps
    elif restarts or "lr_t_max" not in recorded:
        training["lr_t_max"] = max(1, steps - saved["step"])             # a new schedule over the steps left
    else:
        training["lr_t_max"] = recorded["lr_t_max"]
    if model["cell"] == "clockwork" and training["seq_len"] % _lcm(model["periods"]):
        origin = f" (set by --preset {preset_name})" if _from_preset(args, saved, preset, ["seq_len"]) else ""
        raise UsageError(f"--seq-len {training['seq_len']}{origin} is not a multiple of {_lcm(model['periods'])}, "
                         f"the least common multiple of the clockwork --periods {','.join(map(str, model['periods']))}"
                         ": the clock restarts at every window, so each window must hold whole periods")
    return Resolved(model, training, steps, preset_name, overrides, restarts)


def _from_preset(args, saved, preset, keys):
    """The keys among `keys` whose value is the preset's, not one given on the command line: an error about them
    then says where a value the user never typed came from."""
    return [] if saved else [key for key in keys if getattr(args, key) is None and key in preset]


def _model_options(args, saved, recorded, preset, preset_name, vocab_size):
    """The model options: the checkpoint's when resuming (a given different value is an error), else the command
    line's, the preset's or the default."""
    if saved:
        try:
            model = model_options(recorded, vocab_size)
        except ValueError as err:
            raise UsageError(f"{args.resume}: {err}") from None
        for key in MODEL_KEYS:
            given = getattr(args, key)
            if given is not None and not _same(given, model[key]):
                shown = "none" if model[key] is None else model[key]
                raise UsageError(f"{_shown(key, given)} does not match the checkpoint {args.resume} ({key}="
                                 f"{shown}): it was trained as another model")
        return model
    model = {}
    for key, default in MODEL_DEFAULTS.items():
        given = getattr(args, key)
        model[key] = given if given is not None else preset.get(key, default)
    if model["cell"] == "clockwork" and model["periods"] is None:
        model["periods"] = DEFAULT_PERIODS
    if model["one_hot"]:
        if args.embedding is not None and args.embedding != vocab_size:
            raise UsageError(f"--embedding {args.embedding} does not apply with --one-hot: a one-hot input has "
                             f"the vocabulary's size ({vocab_size})")
        model["embedding"] = vocab_size
    elif model["embedding"] is None:
        model["embedding"] = min(model["hidden"], 64)
    try:
        check_cell_options(model["cell"], model["hidden"], model["layers"], model["gate_activation"],
                           model["forget_bias"], model["periods"])
    except UsageError as err:       # the preset's value of an option the user's --cell cannot take
        named = [k for k in ("cell", "gate_activation", "forget_bias", "periods", "hidden", "layers")
                 if f"--{k.replace('_', '-')} " in f"{err} "]
        preset_keys = _from_preset(args, saved, preset, named)
        origin = (f" ({', '.join(_shown(k, model[k]) for k in preset_keys)} set by --preset {preset_name})"
                  if preset_keys else "")
        raise UsageError(f"{err}{origin}") from None
    return model


def _lcm(periods):
    return math.lcm(*periods)


def check_resumable(path, saved):
    """UsageError unless the checkpoint has what train resumes from (checkpoint.load has checked the fields it
    knows: this checks that train's are there, and the ones only train writes)."""
    config = saved["config"]
    missing = [k for k in REQUIRED_MODEL_KEYS if k not in config]
    if missing or not saved["vocab"]:
        raise UsageError(f"{path}: not a character-model checkpoint of train (no vocabulary, or its config lacks "
                         f"{', '.join(missing) or 'nothing'})")
    checks = {
        "optimizer": (lambda v: v in OPTIMIZERS, f"one of {', '.join(OPTIMIZERS)}"),
        "clip": (lambda v: v is None or _positive_finite(v), "None or a positive finite number"),
        "clip_value": (lambda v: v is None or _positive_finite(v), "None or a positive finite number"),
        "weight_decay": (lambda v: v is None or (_real(v) and 0 <= v < math.inf), "a finite number >= 0"),
        "scheduler": (lambda v: v in SCHEDULERS, f"one of {', '.join(SCHEDULERS)}"),
        "lr_step_size": (lambda v: v is None or _positive_int(v), "a positive int"),
        "lr_t_max": (_positive_int, "a positive int"),
        "steps": (_positive_int, "a positive int"),
        "eval_every": (_positive_int, "a positive int"),
        "lr_gamma": (lambda v: _real(v) and 0 < v < 1, "a number in (0, 1)"),
        "lr_min": (lambda v: _real(v) and 0 <= v < math.inf, "a finite number >= 0"),
        "lr_patience": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "an int >= 0"),
        "carry_state": (lambda v: isinstance(v, bool), "True or False"),
        "reduction": (lambda v: v in REDUCTIONS, "'mean' or 'sum'"),
        "preset": (lambda v: v is None or v in PRESETS, f"None or one of {', '.join(PRESETS)}"),
        "seed": (lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2 ** 64),
                 "None or an int in [0, 2**64)"),
    }
    for key, (ok, expected) in checks.items():
        if key in config and not ok(config[key]):
            raise UsageError(f"{path}: config {key!r}: expected {expected}, but got {config[key]!r:.80}")


def _real(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)


def _positive_finite(v):
    return _real(v) and v > 0


def _positive_int(v):
    return isinstance(v, int) and not isinstance(v, bool) and v > 0
