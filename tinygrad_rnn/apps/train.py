"""`python -m tinygrad_rnn train`: a character-level language model, trained with truncated BPTT.

The text is cut into `batch` parallel streams; each step trains on the next `seq-len` characters of every stream
and carries the recurrent state into the following window with `detach()` (stateful training, as min-char-rnn does;
--no-carry-state starts every window from zero), so gradients flow back through one window while the state
remembers the text before it. The carried state restarts at zero after every regular checkpoint, and a checkpoint
saved on Ctrl-C or SIGTERM holds the state carried at that step, so a run resumed from any checkpoint continues
bit-identically. Options and where their values come from: train_options.py.
"""
import math
import signal
import sys
import time

import numpy as np

from .. import checkpoint, no_grad, optim, rng
from . import schedules
from .charlm import build_model, detach_state, estimate_bytes
from .cli import RunError, UsageError
from .data import DataError, Vocabulary, default_corpus, read_text, split, streams, windows
from .files import check_checkpoint_target, check_output_target, remove_stale_temporaries, require_regular_file
from .files import same_file, same_path
from .metrics import MetricsLog, beside, have_matplotlib, is_metrics_file, is_png, plot_loss_curve
from .models import CELLS
from .presets import PRESETS
from .progress import Progress
from .resources import require_memory
from .sample import generate
from .train_options import DESCRIPTION, HELP, OPTIMIZERS, SLOTS, add_arguments, check_resumable, resolve
from ..nn.functional import cross_entropy
from ..tensor import Tensor

__all__ = ["DESCRIPTION", "HELP", "add_arguments", "run"]


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


def output_paths(args):
    """(metrics CSV, loss-curve PNG): the paths given, or beside --out; None for none."""
    def path(given, suffix):
        if given is None:
            return beside(args.out, suffix)
        return None if given.strip().lower() == "none" else given
    return path(args.metrics, ".metrics.csv"), path(args.plot, ".loss.png")


def check_outputs(args, metrics_path, plot_path):
    """Every file the run writes, checked before it trains (the checkpoint, then the CSV and PNG beside it)."""
    check_checkpoint_target(args.out, text=args.text, resume=args.resume, force=args.force)
    continuing = args.resume is not None and same_file(args.out, args.resume)   # the same run goes on
    if metrics_path is not None:
        if same_path(metrics_path, args.out):
            raise UsageError(f"--metrics {metrics_path}: is the checkpoint --out {args.out}")
        check_output_target(metrics_path, "--metrics", lambda p: continuing and is_metrics_file(p), args.text,
                            args.force)
    if plot_path is not None:
        if same_path(plot_path, args.out) or (metrics_path is not None and same_path(plot_path, metrics_path)):
            raise UsageError(f"--plot {plot_path}: is the checkpoint or the metrics file of this run")
        check_output_target(plot_path, "--plot", lambda p: continuing and is_png(p), args.text, args.force)


def make_optimizer(name, parameters, training):
    """torch.optim's optimiser `name` with the run's lr and weight decay (AdamW's is decoupled, the others' L2)."""
    return OPTIMIZERS[name](parameters, lr=training["lr"], weight_decay=training["weight_decay"])


def train(args):
    saved = load_checkpoint(args.resume) if args.resume else None
    if saved:
        check_resumable(args.resume, saved)
        vocab = Vocabulary(saved["vocab"])
        resolved = resolve(args, saved, len(vocab))
        text = load_corpus(args)
    else:
        text = load_corpus(args)
        vocab = Vocabulary(text)
        resolved = resolve(args, None, len(vocab))
    model_opts, training = resolved.model, resolved.training
    seq_len, batch = training["seq_len"], training["batch"]
    try:
        ids = vocab.encode(text)
    except DataError as err:
        raise UsageError(f"the text does not fit the checkpoint {args.resume}: {err}") from None
    train_ids, valid_ids = split(ids)
    if len(train_ids) < batch * (seq_len + 1):
        raise UsageError(f"the text is too short ({len(text)} characters) for --batch {batch} and "
                         f"--seq-len {seq_len}: it needs at least {batch * (seq_len + 1) * 10 // 9 + 1}")
    dtype = np.dtype(model_opts["dtype"])
    require_memory(estimate_bytes(len(vocab), model_opts["hidden"], model_opts["layers"], model_opts["cell"], batch,
                                  seq_len, dtype.itemsize, 2 + SLOTS[training["optimizer"]],
                                  embedding=model_opts["embedding"]),
                   f"--hidden {model_opts['hidden']} --layers {model_opts['layers']} --batch {batch} "
                   f"--seq-len {seq_len}")
    metrics_path, plot_path = output_paths(args)
    check_outputs(args, metrics_path, plot_path)

    rng.manual_seed(0 if args.seed is None else args.seed)
    model = build_model(len(vocab), model_opts)
    optimizer = make_optimizer(training["optimizer"], model.trainable_parameters(), training)
    scheduler = schedules.build(training["scheduler"], optimizer, training)   # before the optimiser's state loads
    step, state = 0, None
    if saved:
        step, state, scheduler = restore(args, saved, resolved, model, optimizer, scheduler, dtype)
    stop = _StopSignals()                     # from here on Ctrl-C and SIGTERM save a checkpoint, then exit
    metrics = None
    try:
        name = model_opts["cell"].upper()
        print(f"{name} char model: {sum(p.numel() for p in model.trainable_parameters()):,} parameters, "
              f"vocabulary {len(vocab)}, {len(text):,} characters "
              f"({'default corpus' if not args.text else args.text})", flush=True)
        if resolved.preset and not saved:
            print(f"preset {resolved.preset}: {' '.join(_preset_flags(resolved.preset))} "
                  "(train --help says what it follows and where it departs)", flush=True)
        metrics = MetricsLog(metrics_path, start_step=step)
        trainer = Trainer(model, optimizer, scheduler, vocab, streams(train_ids, batch), valid_ids, args,
                          {**model_opts, "periods": _listed(model_opts["periods"]), **training,
                           "preset": resolved.preset, "seed": _seed(args, saved)},
                          metrics, plot_path,
                          saved_step=step if saved and same_file(args.out, args.resume) else None)
        try:
            step = trainer.train(step, resolved.steps, state, stop)
        except RunError:
            if trainer.saved_step is None:    # nothing of this run was kept: its metrics file goes too
                metrics.discard()
            raise
    finally:
        stop.restore()
        if metrics is not None:
            metrics.close()
    if stop:
        return 128 + stop[0]
    bpc = evaluate(model, valid_ids, batch, seq_len, carry=training["carry_state"])
    print(f"validation: {bpc:.3f} bits per character after {step} steps; checkpoint {args.out}")
    return 0


def _seed(args, saved):
    """The seed the run started from, recorded in the checkpoint: the one given, else the resumed checkpoint's (a
    resumed run goes on from its saved random state), else 0; None for checkpoints written before it was kept."""
    if args.seed is not None:
        return args.seed
    return saved["config"].get("seed") if saved else 0


def _listed(periods):
    return None if periods is None else list(periods)


def _preset_flags(name):
    flags = []
    for key, value in PRESETS[name].options.items():
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            flags.append(flag if value else "--no-" + key.replace("_", "-"))
        else:
            flags.append(f"{flag} {value}")
    return flags


def restore(args, saved, resolved, model, optimizer, scheduler, dtype):
    """Loads a checkpoint's weights, optimiser and scheduler state and random state into the run; returns (step,
    the carried TBPTT state or None, the scheduler). What the command line changed starts afresh (and was
    reported)."""
    training, recorded = resolved.training, saved["config"]
    try:
        model.load_state_dict(saved["model"])
    except (RuntimeError, KeyError, ValueError) as err:
        raise UsageError(f"{args.resume}: its weights do not fit the model it describes: {err}") from None
    fresh_optimizer = args.optimizer is not None and args.optimizer != recorded.get("optimizer", args.optimizer)
    if saved["optimizer"] is not None and not fresh_optimizer:
        try:
            optimizer.load_state_dict(saved["optimizer"])
        except (ValueError, KeyError, TypeError) as err:
            raise UsageError(f"{args.resume}: its optimiser state does not fit --optimizer "
                             f"{training['optimizer']}: {err}") from None
        for group in optimizer.param_groups:         # what the command line gave wins
            group["weight_decay"] = training["weight_decay"]
            if scheduler is None:
                group["lr"] = training["lr"]
            elif resolved.schedule_restarts:          # the new schedule starts from the given --lr
                group["lr"] = group["initial_lr"] = training["lr"]
    if scheduler is not None and saved.get("scheduler") and not resolved.schedule_restarts \
            and recorded.get("scheduler") == training["scheduler"] and not fresh_optimizer:
        try:
            scheduler.load_state_dict(dict(saved["scheduler"]))
        except (ValueError, KeyError, TypeError) as err:
            raise UsageError(f"{args.resume}: its scheduler state does not fit --scheduler "
                             f"{training['scheduler']}: {err}") from None
    elif scheduler is not None:
        scheduler = schedules.build(training["scheduler"], optimizer, training)   # starts over the steps left
    step = saved["step"]
    if saved["rng_state"] is not None and args.seed is None:
        try:
            rng.generator.bit_generator.state = saved["rng_state"]
        except (ValueError, TypeError, KeyError) as err:
            raise UsageError(f"{args.resume}: its random state does not fit numpy's "
                             f"{type(rng.generator.bit_generator).__name__}: {err}") from None
    state = None
    if (training["seq_len"], training["batch"]) == (recorded.get("seq_len"), recorded.get("batch")):
        state = carried_state(recorded.get("carried_state"), model, training["batch"], dtype)
    print(f"resuming {args.resume} at step {step}" + (f"; from the command line: {', '.join(resolved.overrides)}"
                                                      if resolved.overrides else ""), flush=True)
    return step, state, scheduler


def carried_state(saved, model, batch, dtype):
    """The TBPTT state saved with an interrupted run's checkpoint, as the layer takes it (None: start at zero)."""
    if not saved:
        return None
    shape = (model.config["layers"], batch, model.config["hidden"])
    if any(not isinstance(a, np.ndarray) or a.shape != shape or a.dtype != dtype for a in saved):
        return None
    parts = tuple(Tensor(a.copy()) for a in saved)
    return parts if CELLS[model.config["cell"]].cell_state else parts[0]


class Trainer:
    """The training loop: windows, loss, backward, clipping, optimiser and scheduler steps, progress, metrics,
    validation, samples and checkpoints."""

    def __init__(self, model, optimizer, scheduler, vocab, rows, valid_ids, args, config, metrics=None,
                 plot_path=None, saved_step=None):
        self.model, self.optimizer, self.scheduler, self.vocab = model, optimizer, scheduler, vocab
        self.rows, self.valid_ids, self.args, self.config = rows, valid_ids, args, config
        self.metrics, self.plot_path = metrics or MetricsLog(None), plot_path
        self.saved_step = saved_step              # the step of the checkpoint at args.out, if it is this run's
        self.parameters = model.trainable_parameters()
        self.schedule_on = schedules.steps_per_update(config["scheduler"])
        self.plot_note_shown = False

    def loss(self, inputs, targets, state):
        logits, state = self.model(inputs, state)
        T, B, V = logits.shape
        loss = cross_entropy(logits.reshape(T * B, V), targets.reshape(-1), reduction=self.config["reduction"])
        return loss, state

    def train(self, step, steps, state=None, stop=None):
        """Trains from `step` to `steps`, carrying `state`; stops early, after a checkpoint, when `stop` (a list
        that signal handlers append to) becomes true. Returns the step reached."""
        args, config, stop = self.args, self.config, [] if stop is None else stop
        seq_len, carry = config["seq_len"], config["carry_state"]
        progress = Progress(step, steps, args.quiet, args.log_every)
        started, chars = time.perf_counter(), 0
        self.model.train()
        try:
            while step < steps and not stop:      # a signal sets the flag: never a half-done step
                inputs, targets = windows(self.rows, seq_len, step * seq_len)
                lr = self.optimizer.param_groups[0]["lr"]
                with np.errstate(over="ignore", invalid="ignore"):     # a diverging run is caught just below
                    loss, state = self.loss(inputs, targets, state if carry else None)
                    value = loss.item()
                    self.require_finite(value, f"the loss is {value}", step + 1)
                    self.optimizer.zero_grad()
                    loss.backward()
                    self.clip(step)
                    self.optimizer.step()
                if self.schedule_on == "step":
                    self.scheduler.step()
                state = detach_state(state) if carry else None   # truncated BPTT: keep the state, drop its history
                step += 1
                chars += inputs.size
                per_char = value / inputs.size if config["reduction"] == "sum" else value
                bpc = per_char / math.log(2)
                speed = chars / (time.perf_counter() - started)
                valid = self.validate() if step % config["eval_every"] == 0 else None
                self.metrics.row(step, per_char, bpc, lr, speed, valid)
                status = f"loss {per_char:.3f} ({bpc:.2f} bpc), lr {lr:.3g}, {speed:,.0f} chars/s"
                progress.update(step, status + ("" if valid is None else f", validation {valid:.3f} bpc"))
                if step % args.sample_every == 0 or step == steps:
                    progress.write(f"--- sample at step {step} ---\n{self.sample()}\n---")
                if step % args.save_every == 0 or step == steps:
                    self.save(step)
                    state = None                  # restart the carried state at checkpoints (exact resumes)
        except KeyboardInterrupt:                 # (only where no handler could be installed)
            stop.append(signal.SIGINT)
        finally:
            progress.close()
        if stop:
            self.save(step, state)                # with the carried state: the resumed run goes on exactly
            how = "interrupted" if stop[0] == signal.SIGINT else f"stopped by {signal.Signals(stop[0]).name}"
            print(f"{how} at step {step}: checkpoint saved to {args.out}", file=sys.stderr)
        return step

    def clip(self, step):
        """--clip-value (each element), then --clip (the global norm, which is checked for being finite)."""
        if self.config["clip_value"] is not None:
            optim.clip_grad_value_(self.parameters, self.config["clip_value"])
        max_norm = self.config["clip"] if self.config["clip"] is not None else math.inf
        norm = optim.clip_grad_norm_(self.parameters, max_norm)
        self.require_finite(norm, f"the gradient norm is {norm}", step + 1)

    def validate(self):
        """Bits per character on the held-out text; a plateau schedule takes its step from it."""
        bpc = evaluate(self.model, self.valid_ids, self.config["batch"], self.config["seq_len"],
                       carry=self.config["carry_state"])
        if self.schedule_on == "validation" and math.isfinite(bpc):
            self.scheduler.step(bpc)
        return bpc

    def require_finite(self, value, problem, step):
        """RunError saying `problem` if `value` is NaN or infinite: the run stops before an update or a save can
        spread it, so the last checkpoint stays as it was."""
        if math.isfinite(value):
            return
        kept = (f"{self.args.out} keeps the checkpoint of step {self.saved_step}" if self.saved_step is not None
                else "no checkpoint was saved")
        lr = self.optimizer.param_groups[0]["lr"]
        clip = "none" if self.config["clip"] is None else self.config["clip"]
        raise RunError(f"{problem} at step {step} (--lr {lr}, --clip {clip}): training stopped; {kept}")

    def sample(self, length=200):
        g = np.random.default_rng(0)              # its own generator: sampling leaves training's RNG untouched
        prime = self.vocab.decode(self.rows[:1, 0])      # the text's first character
        text = generate(self.model, self.vocab, prime=prime, length=length, temperature=0.8, generator=g)
        self.model.train()
        return text

    def save(self, step, state=None):
        """A checkpoint at args.out (and the loss curve beside it), unless a weight or optimiser state is no
        longer finite (then RunError)."""
        arrays = [p.data for p in self.model.parameters()] + [
            v for s in self.optimizer.state.values() for v in s.values() if isinstance(v, np.ndarray)]
        if not all(np.isfinite(a).all() for a in arrays):
            self.require_finite(math.nan, "the weights or the optimiser state are not finite", step)
        carried = None if state is None else [s.data for s in (state if isinstance(state, tuple) else (state,))]
        scheduler_state = None if self.scheduler is None else self.scheduler.state_dict()
        remove_stale_temporaries(self.args.out)   # what a save killed mid-write left behind
        checkpoint.save(self.args.out, self.model.state_dict(), self.optimizer.state_dict(),
                        {**self.config, "carried_state": carried}, self.vocab.chars, step,
                        rng.generator.bit_generator.state, scheduler_state=scheduler_state)
        self.saved_step = step
        self.plot()

    def plot(self):
        """The loss curve from the metrics CSV, when there are both a CSV and matplotlib."""
        if self.plot_path is None or self.metrics.path is None:
            return
        if not have_matplotlib():
            if not self.plot_note_shown:
                print(f"python -m tinygrad_rnn train: matplotlib is not installed, so {self.plot_path} is not drawn "
                      "(pip install matplotlib)", file=sys.stderr)
                self.plot_note_shown = True
            return
        preset = f", preset {self.config['preset']}" if self.config.get("preset") else ""
        plot_loss_curve(self.metrics.path, self.plot_path, f"{self.config['cell']} char model{preset}")


def evaluate(model, ids, batch, seq_len, max_windows=20, carry=True):
    """Bits per character on `ids` (held-out text), the state carried across windows unless carry=False."""
    rows = streams(ids, min(batch, max(1, len(ids) // (seq_len + 1))))
    n = min(max_windows, (rows.shape[1] - 1) // seq_len)
    if n == 0:
        return float("nan")
    model.eval()
    total, state = 0.0, None
    with no_grad():
        for k in range(n):
            inputs, targets = windows(rows, seq_len, k * seq_len)
            logits, state = model(inputs, state if carry else None)
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
