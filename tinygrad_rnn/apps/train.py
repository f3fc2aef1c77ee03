"""`python -m tinygrad_rnn train`: a character-level language model, trained with truncated BPTT.

The text is cut into `batch` parallel streams; each step trains on the next `seq-len` characters of every stream
and carries the recurrent state into the following window with `detach()` (stateful training, as min-char-rnn does),
so gradients flow back through one window while the state remembers the text before it. The carried state restarts
at zero after every regular checkpoint, and a checkpoint saved on Ctrl-C or SIGTERM holds the state carried at that
step, so a run resumed from any checkpoint continues bit-identically.
"""
import math
import signal
import sys
import time

import numpy as np

from .. import checkpoint, no_grad, optim, rng
from .charlm import CELLS, CharLM, detach_state
from .charlm import estimate_bytes
from .cli import RunError, UsageError, positive_float, positive_int, probability, random_seed
from .data import MAX_TEXT_BYTES, DataError, Vocabulary, default_corpus, read_text, split, streams, windows
from .files import same_file, check_checkpoint_target, remove_stale_temporaries, require_regular_file
from .resources import require_memory
from ..nn.functional import cross_entropy
from .sample import generate
from ..tensor import Tensor

HELP = "train a character-level language model (default corpus: Python's own standard library sources)"
DESCRIPTION = HELP + """. With --resume, the model options (--cell, --hidden, --layers, --dropout, --dtype) come
from the checkpoint (a different value is an error); the training options saved in it (--seq-len, --batch, --lr,
--optimizer, --clip, and the random state) are the checkpoint's unless given on the command line, and those given
win and are reported. --out must be a new file or the checkpoint that --resume names (--force replaces another
file); it is checked before training starts. Ctrl-C or SIGTERM saves a checkpoint and exits with 130 or 143; a loss
or gradient that is no longer finite stops the run (exit 1) without saving over the last checkpoint."""
MODEL_DEFAULTS = dict(cell="lstm", hidden=128, layers=2, dropout=0.0, dtype="float32")
TRAINING_DEFAULTS = dict(seq_len=64, batch=32, lr=3e-3, optimizer="adam", clip=5.0)   # the checkpoint's on --resume
OPTIMIZERS = {"adam": optim.Adam, "adamw": optim.AdamW, "sgd": optim.SGD, "adagrad": optim.Adagrad,
              "rmsprop": optim.RMSprop}
SLOTS = {"adam": 2, "adamw": 2, "sgd": 1, "adagrad": 1, "rmsprop": 2}    # state arrays per weight (sgd: momentum)


def add_arguments(parser):
    parser.description = DESCRIPTION
    parser.add_argument("--text", help="a UTF-8 text file (default: Python standard library sources)")
    parser.add_argument("--max-text-bytes", type=positive_int, default=MAX_TEXT_BYTES,
                        help=f"refuse a --text file larger than this (default {MAX_TEXT_BYTES:,})")
    parser.add_argument("--cell", choices=sorted(CELLS), help="recurrent cell (default lstm)")
    parser.add_argument("--hidden", type=positive_int, help="hidden units per layer (default 128)")
    parser.add_argument("--layers", type=positive_int, help="stacked layers (default 2)")
    parser.add_argument("--dropout", type=probability, help="dropout between layers and before the decoder (0)")
    parser.add_argument("--dtype", choices=["float32", "float64"], help="float32 (default) or float64")
    parser.add_argument("--seq-len", type=positive_int, help="characters per window (TBPTT length; default 64)")
    parser.add_argument("--batch", type=positive_int, help="parallel streams (default 32)")
    parser.add_argument("--steps", type=positive_int, default=1000, help="optimisation steps in all")
    parser.add_argument("--lr", type=positive_float, help="learning rate (default 0.003)")
    parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS), help="default adam")
    parser.add_argument("--clip", type=positive_float, help="max global gradient norm (default 5)")
    parser.add_argument("--seed", type=random_seed, help="seeds weight init and dropout (default 0; on --resume, "
                                                          "replaces the checkpoint's random state)")
    parser.add_argument("--out", default="char_lm.safetensors", help="checkpoint file (written atomically)")
    parser.add_argument("--resume", help="continue from this checkpoint")
    parser.add_argument("--force", action="store_true",
                        help="let --out replace an existing file that is not the checkpoint being resumed")
    parser.add_argument("--save-every", type=positive_int, default=200, help="steps between checkpoints")
    parser.add_argument("--sample-every", type=positive_int, default=200, help="steps between printed samples")
    parser.add_argument("--threads", type=positive_int, default=1,
                        help="BLAS threads (default 1: the GEMMs per step are small, and numpy's and scipy's "
                             "OpenBLAS pools would otherwise compete for the cores)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def model_config(args, saved):
    """The model options: the checkpoint's when resuming (an explicit different value is an error), else the args'."""
    config = {}
    for key, default in MODEL_DEFAULTS.items():
        given = getattr(args, key)
        if saved is not None:
            if given is not None and given != saved[key]:
                raise UsageError(f"--{key} {given} does not match the checkpoint {args.resume} ({key}={saved[key]}): "
                                 "it was trained as another model")
            config[key] = saved[key]
        else:
            config[key] = default if given is None else given
    return config


def check_resumable(path, saved):
    """UsageError unless the checkpoint has what train resumes from (checkpoint.load has checked each field's type:
    this checks that train's are there, and the ones only train writes)."""
    config = saved["config"]
    missing = [k for k in MODEL_DEFAULTS if k not in config]
    if missing or not saved["vocab"]:
        raise UsageError(f"{path}: not a character-model checkpoint of train (no vocabulary, or its config lacks "
                         f"{', '.join(missing) or 'nothing'})")
    if config.get("optimizer", "adam") not in OPTIMIZERS:
        raise UsageError(f"{path}: config 'optimizer': expected one of {', '.join(OPTIMIZERS)}, but got "
                         f"{config['optimizer']!r:.80}")
    clip = config.get("clip", 1.0)
    if isinstance(clip, bool) or not isinstance(clip, (int, float)) or not 0 < clip < math.inf:
        raise UsageError(f"{path}: config 'clip': expected a positive finite number, but got {clip!r:.80}")


def training_options(args, saved):
    """(options, overrides): each training option from the command line if given, else the checkpoint's (when
    resuming), else the default; overrides lists the given ones that replace a different checkpoint value."""
    options, overrides = {}, []
    recorded = dict(saved["config"]) if saved else {}
    if saved and saved["optimizer"] is not None and saved["optimizer"]["param_groups"]:
        recorded["lr"] = saved["optimizer"]["param_groups"][0].get("lr")
    for key, default in TRAINING_DEFAULTS.items():
        given, before = getattr(args, key), recorded.get(key)
        options[key] = given if given is not None else before if before is not None else default
        if given is not None and before is not None and given != before:
            overrides.append(f"--{key.replace('_', '-')} {given} (checkpoint: {before})")
    if saved and args.seed is not None:
        overrides.append(f"--seed {args.seed} (replaces the checkpoint's random state)")
    return options, overrides


def load_corpus(args):
    try:
        return read_text(args.text, args.max_text_bytes) if args.text else default_corpus()
    except DataError as err:
        raise UsageError(str(err)) from None


def load_checkpoint(path):
    require_regular_file(path, f"--resume {path}")      # a FIFO would block np.load forever
    try:
        return checkpoint.load(path)
    except checkpoint.CheckpointError as err:
        raise UsageError(str(err)) from None


def run(args):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(args.threads):
        return train(args)


def train(args):
    saved = load_checkpoint(args.resume) if args.resume else None
    if saved:
        check_resumable(args.resume, saved)
    config = model_config(args, saved["config"] if saved else None)
    options, overrides = training_options(args, saved)
    seq_len, batch = options["seq_len"], options["batch"]
    text = load_corpus(args)
    vocab = Vocabulary(saved["vocab"] if saved else text)
    try:
        ids = vocab.encode(text)
    except DataError as err:
        raise UsageError(f"the text does not fit the checkpoint {args.resume}: {err}") from None
    train_ids, valid_ids = split(ids)
    if len(train_ids) < batch * (seq_len + 1):
        raise UsageError(f"the text is too short ({len(text)} characters) for --batch {batch} and "
                         f"--seq-len {seq_len}: it needs at least {batch * (seq_len + 1) * 10 // 9 + 1}")
    dtype = np.dtype(config["dtype"])
    require_memory(estimate_bytes(len(vocab), config["hidden"], config["layers"], config["cell"], batch, seq_len,
                                  dtype.itemsize, 2 + SLOTS[options["optimizer"]]),
                   f"--hidden {config['hidden']} --layers {config['layers']} --batch {batch} --seq-len {seq_len}")
    check_checkpoint_target(args.out, text=args.text, resume=args.resume, force=args.force)

    rng.manual_seed(0 if args.seed is None else args.seed)
    model = CharLM(len(vocab), config["hidden"], config["layers"], config["cell"], config["dropout"], dtype=dtype)
    optimizer = OPTIMIZERS[options["optimizer"]](model.parameters(), lr=options["lr"])
    step, state = 0, None
    if saved:
        try:
            model.load_state_dict(saved["model"])
        except (RuntimeError, KeyError, ValueError) as err:
            raise UsageError(f"{args.resume}: its weights do not fit the model it describes: {err}") from None
        fresh_optimizer = args.optimizer is not None and args.optimizer != saved["config"].get("optimizer",
                                                                                              args.optimizer)
        if saved["optimizer"] is not None and not fresh_optimizer:
            try:
                optimizer.load_state_dict(saved["optimizer"])
            except (ValueError, KeyError, TypeError) as err:
                raise UsageError(f"{args.resume}: its optimiser state does not fit --optimizer "
                                 f"{options['optimizer']}: {err}") from None
            for group in optimizer.param_groups:     # a --lr given on the command line wins
                group["lr"] = options["lr"]
        step = saved["step"]
        if saved["rng_state"] is not None and args.seed is None:
            try:
                rng.generator.bit_generator.state = saved["rng_state"]
            except (ValueError, TypeError, KeyError) as err:
                raise UsageError(f"{args.resume}: its random state does not fit numpy's "
                                 f"{type(rng.generator.bit_generator).__name__}: {err}") from None
        if (seq_len, batch) == (saved["config"].get("seq_len"), saved["config"].get("batch")):
            state = carried_state(saved["config"].get("carried_state"), model, batch, dtype)
        print(f"resuming {args.resume} at step {step}" + (f"; from the command line: {', '.join(overrides)}"
                                                          if overrides else ""), flush=True)
    stop = _StopSignals()                     # from here on Ctrl-C and SIGTERM save a checkpoint, then exit
    try:
        print(f"{model.config['cell'].upper()} char model: {sum(p.numel() for p in model.parameters()):,} "
              f"parameters, vocabulary {len(vocab)}, {len(text):,} characters "
              f"({'default corpus' if not args.text else args.text})", flush=True)
        rows = streams(train_ids, batch)
        trainer = Trainer(model, optimizer, vocab, rows, args,
                          {**config, "seq_len": seq_len, "batch": batch, "optimizer": options["optimizer"],
                           "clip": options["clip"]},
                          saved_step=step if saved and same_file(args.out, args.resume) else None)
        step = trainer.train(step, args.steps, state, stop)
    finally:
        stop.restore()
    if stop:
        return 128 + stop[0]
    bpc = evaluate(model, valid_ids, batch, seq_len)
    print(f"validation: {bpc:.3f} bits per character after {step} steps; checkpoint {args.out}")
    return 0


def carried_state(saved, model, batch, dtype):
    """The TBPTT state saved with an interrupted run's checkpoint, as the layer takes it (None: start at zero)."""
    if not saved:
        return None
    shape = (model.config["layers"], batch, model.config["hidden"])
    if any(not isinstance(a, np.ndarray) or a.shape != shape or a.dtype != dtype for a in saved):
        return None
    parts = tuple(Tensor(a.copy()) for a in saved)
    return parts if model.config["cell"] in ("lstm", "peephole") else parts[0]


class Trainer:
    """The training loop: windows, loss, backward, clipping, optimiser step, progress, samples and checkpoints."""

    def __init__(self, model, optimizer, vocab, rows, args, config, saved_step=None):
        self.model, self.optimizer, self.vocab, self.rows, self.args, self.config = (model, optimizer, vocab, rows,
                                                                                    args, config)
        self.saved_step = saved_step              # the step of the checkpoint at args.out, if it is this run's

    def loss(self, inputs, targets, state):
        logits, state = self.model(inputs, state)
        T, B, V = logits.shape
        return cross_entropy(logits.reshape(T * B, V), targets.reshape(-1)), state

    def train(self, step, steps, state=None, stop=None):
        """Trains from `step` to `steps`, carrying `state`; stops early, after a checkpoint, when `stop` (a list
        that signal handlers append to) becomes true. Returns the step reached."""
        args, seq_len, stop = self.args, self.config["seq_len"], [] if stop is None else stop
        bar = _progress(step, steps, args.quiet)
        started, chars = time.perf_counter(), 0
        self.model.train()
        try:
            while step < steps and not stop:      # a signal sets the flag: never a half-done step
                inputs, targets = windows(self.rows, seq_len, step * seq_len)
                with np.errstate(over="ignore", invalid="ignore"):     # a diverging run is caught just below
                    loss, state = self.loss(inputs, targets, state)
                    value = loss.item()
                    self.require_finite(value, f"the loss is {value}", step + 1)
                    self.optimizer.zero_grad()
                    loss.backward()
                    norm = optim.clip_grad_norm_(self.model.parameters(), self.config["clip"])
                    self.require_finite(norm, f"the gradient norm is {norm}", step + 1)
                    self.optimizer.step()
                state = detach_state(state)       # truncated BPTT: keep the state, drop its history
                step += 1
                chars += inputs.size
                bpc = value / math.log(2)
                bar.set_postfix_str(f"loss {value:.3f} ({bpc:.2f} bpc), "
                                    f"{chars / (time.perf_counter() - started):,.0f} chars/s")
                bar.update(1)
                if step % args.sample_every == 0 or step == steps:
                    bar.write(f"--- sample at step {step} ---\n{self.sample()}\n---")
                if step % args.save_every == 0 or step == steps:
                    self.save(step)
                    state = None                  # restart the carried state at checkpoints (exact resumes)
        except KeyboardInterrupt:                 # (only where no handler could be installed)
            stop.append(signal.SIGINT)
        finally:
            bar.close()
        if stop:
            self.save(step, state)                # with the carried state: the resumed run goes on exactly
            how = "interrupted" if stop[0] == signal.SIGINT else f"stopped by {signal.Signals(stop[0]).name}"
            print(f"{how} at step {step}: checkpoint saved to {args.out}", file=sys.stderr)
        return step

    def require_finite(self, value, problem, step):
        """RunError saying `problem` if `value` is NaN or infinite: the run stops before an update or a save can
        spread it, so the last checkpoint stays as it was."""
        if math.isfinite(value):
            return
        kept = (f"{self.args.out} keeps the checkpoint of step {self.saved_step}" if self.saved_step is not None
                else "no checkpoint was saved")
        lr = self.optimizer.param_groups[0]["lr"]
        raise RunError(f"{problem} at step {step} (--lr {lr}, --clip {self.config['clip']}): training "
                       f"stopped; {kept}")

    def sample(self, length=200):
        g = np.random.default_rng(0)              # its own generator: sampling leaves training's RNG untouched
        prime = self.vocab.decode(self.rows[:1, 0])      # the text's first character
        text = generate(self.model, self.vocab, prime=prime, length=length, temperature=0.8, generator=g)
        self.model.train()
        return text

    def save(self, step, state=None):
        """A checkpoint at args.out, unless a weight or optimiser state is no longer finite (then RunError)."""
        arrays = [p.data for p in self.model.parameters()] + [
            v for s in self.optimizer.state.values() for v in s.values() if isinstance(v, np.ndarray)]
        if not all(np.isfinite(a).all() for a in arrays):
            self.require_finite(math.nan, "the weights or the optimiser state are not finite", step)
        carried = None if state is None else [s.data for s in (state if isinstance(state, tuple) else (state,))]
        remove_stale_temporaries(self.args.out)   # what a save killed mid-write left behind
        checkpoint.save(self.args.out, self.model.state_dict(), self.optimizer.state_dict(),
                        {**self.config, "carried_state": carried}, self.vocab.chars, step,
                        rng.generator.bit_generator.state)
        self.saved_step = step


def evaluate(model, ids, batch, seq_len, max_windows=20):
    """Bits per character on `ids` (held-out text), state carried across windows."""
    rows = streams(ids, min(batch, max(1, len(ids) // (seq_len + 1))))
    n = min(max_windows, (rows.shape[1] - 1) // seq_len)
    if n == 0:
        return float("nan")
    model.eval()
    total, state = 0.0, None
    with no_grad():
        for k in range(n):
            inputs, targets = windows(rows, seq_len, k * seq_len)
            logits, state = model(inputs, state)
            T, B, V = logits.shape
            total += cross_entropy(logits.reshape(T * B, V), targets.reshape(-1)).item()
    model.train()
    return total / n / math.log(2)


class _StopSignals(list):
    """A list that SIGINT and SIGTERM append their number to (so it is true after Ctrl-C, `kill` or a container
    stop) instead of interrupting a step or a save; restore() puts the previous handlers back."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        super().__init__()
        self.previous = {}
        try:
            for signum in self.SIGNALS:
                self.previous[signum] = signal.signal(signum, lambda signum, frame: self.append(signum))
        except ValueError:                        # not the main thread: Ctrl-C stays a KeyboardInterrupt
            self.restore()

    def restore(self):
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
        self.previous = {}


def _progress(step, steps, quiet):
    from tqdm import tqdm

    return tqdm(total=steps, initial=step, disable=quiet, unit="step", dynamic_ncols=True)
