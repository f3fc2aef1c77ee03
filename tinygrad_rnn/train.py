"""`python -m tinygrad_rnn train`: a character-level language model, trained with truncated BPTT.

The text is cut into `batch` parallel streams; each step trains on the next `seq-len` characters of every stream
and carries the recurrent state into the following window with `detach()` (stateful training, as min-char-rnn does),
so gradients flow back through one window while the state remembers the text before it. The carried state restarts
at zero after every checkpoint, so a run resumed from a checkpoint continues bit-identically.
"""
import math
import signal
import sys
import time

import numpy as np

from . import checkpoint, no_grad, optim, rng
from .charlm import CELLS, CharLM, detach_state
from .cli import UsageError, positive_float, positive_int, probability
from .data import DataError, Vocabulary, default_corpus, read_text, split, streams, windows
from .nn.functional import cross_entropy
from .sample import generate

HELP = "train a character-level language model (default corpus: Python's own standard library sources)"
MODEL_DEFAULTS = dict(cell="lstm", hidden=128, layers=2, dropout=0.0, dtype="float32")
OPTIMIZERS = {"adam": optim.Adam, "adamw": optim.AdamW, "sgd": optim.SGD, "adagrad": optim.Adagrad,
              "rmsprop": optim.RMSprop}


def add_arguments(parser):
    parser.add_argument("--text", help="a UTF-8 text file (default: Python standard library sources)")
    parser.add_argument("--cell", choices=sorted(CELLS), help="recurrent cell (default lstm)")
    parser.add_argument("--hidden", type=positive_int, help="hidden units per layer (default 128)")
    parser.add_argument("--layers", type=positive_int, help="stacked layers (default 2)")
    parser.add_argument("--dropout", type=probability, help="dropout between layers and before the decoder (0)")
    parser.add_argument("--dtype", choices=["float32", "float64"], help="float32 (default) or float64")
    parser.add_argument("--seq-len", type=positive_int, default=64, help="characters per window (TBPTT length)")
    parser.add_argument("--batch", type=positive_int, default=32, help="parallel streams")
    parser.add_argument("--steps", type=positive_int, default=1000, help="optimisation steps in all")
    parser.add_argument("--lr", type=positive_float, default=3e-3)
    parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adam")
    parser.add_argument("--clip", type=positive_float, default=5.0, help="max global gradient norm")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="char_lm.npz", help="checkpoint file (written atomically)")
    parser.add_argument("--resume", help="continue from this checkpoint")
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


def load_corpus(args):
    try:
        return read_text(args.text) if args.text else default_corpus()
    except DataError as err:
        raise UsageError(str(err)) from None


def run(args):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(args.threads):
        return train(args)


def train(args):
    saved = None
    if args.resume:
        try:
            saved = checkpoint.load(args.resume)
        except checkpoint.CheckpointError as err:
            raise UsageError(str(err)) from None
    config = model_config(args, saved["config"] if saved else None)
    text = load_corpus(args)
    vocab = Vocabulary(saved["vocab"] if saved else text)
    try:
        ids = vocab.encode(text)
    except DataError as err:
        raise UsageError(f"the text does not fit the checkpoint {args.resume}: {err}") from None
    train_ids, valid_ids = split(ids)
    if len(train_ids) < args.batch * (args.seq_len + 1):
        raise UsageError(f"the text is too short ({len(text)} characters) for --batch {args.batch} and "
                         f"--seq-len {args.seq_len}: it needs at least {args.batch * (args.seq_len + 1) * 10 // 9 + 1}")

    rng.manual_seed(args.seed)
    dtype = np.dtype(config["dtype"])
    model = CharLM(len(vocab), config["hidden"], config["layers"], config["cell"], config["dropout"], dtype=dtype)
    optimizer = OPTIMIZERS[args.optimizer](model.parameters(), lr=args.lr)
    step = 0
    if saved:
        try:
            model.load_state_dict(saved["model"])
        except RuntimeError as err:
            raise UsageError(f"{args.resume}: its weights do not fit the model it describes: {err}") from None
        if saved["optimizer"] is not None:
            try:
                optimizer.load_state_dict(saved["optimizer"])
            except ValueError as err:
                raise UsageError(f"{args.resume}: its optimiser state does not fit --optimizer {args.optimizer}: "
                                 f"{err}") from None
        step = saved["step"]
        if saved["rng_state"] is not None:
            rng.generator.bit_generator.state = saved["rng_state"]
    print(f"{model.config['cell'].upper()} char model: {sum(p.numel() for p in model.parameters()):,} parameters, "
          f"vocabulary {len(vocab)}, {len(text):,} characters ({'default corpus' if not args.text else args.text})")
    rows = streams(train_ids, args.batch)
    trainer = Trainer(model, optimizer, vocab, rows, args, {**config, "seq_len": args.seq_len, "batch": args.batch})
    step = trainer.train(step, args.steps)
    bpc = evaluate(model, valid_ids, args.batch, args.seq_len)
    print(f"validation: {bpc:.3f} bits per character after {step} steps; checkpoint {args.out}")
    return 0


class Trainer:
    """The training loop: windows, loss, backward, clipping, optimiser step, progress, samples and checkpoints."""

    def __init__(self, model, optimizer, vocab, rows, args, config):
        self.model, self.optimizer, self.vocab, self.rows, self.args, self.config = (model, optimizer, vocab, rows,
                                                                                    args, config)

    def loss(self, inputs, targets, state):
        logits, state = self.model(inputs, state)
        T, B, V = logits.shape
        return cross_entropy(logits.reshape(T * B, V), targets.reshape(-1)), state

    def train(self, step, steps):
        args, state = self.args, None
        bar = _progress(step, steps, args.quiet)
        started, chars = time.perf_counter(), 0
        self.model.train()
        interrupted = _ctrl_c_flag()          # Ctrl-C sets a flag checked between steps: never a half-done step
        try:
            while step < steps and not interrupted:
                inputs, targets = windows(self.rows, args.seq_len, step * args.seq_len)
                loss, state = self.loss(inputs, targets, state)
                self.optimizer.zero_grad()
                loss.backward()
                optim.clip_grad_norm_(self.model.parameters(), args.clip)
                self.optimizer.step()
                state = detach_state(state)       # truncated BPTT: keep the state, drop its history
                step += 1
                chars += inputs.size
                bpc = loss.item() / math.log(2)
                bar.set_postfix_str(f"loss {loss.item():.3f} ({bpc:.2f} bpc), "
                                    f"{chars / (time.perf_counter() - started):,.0f} chars/s")
                bar.update(1)
                if step % args.sample_every == 0 or step == steps:
                    bar.write(f"--- sample at step {step} ---\n{self.sample()}\n---")
                if step % args.save_every == 0 or step == steps:
                    self.save(step)
                    state = None                  # restart the carried state at checkpoints (exact resumes)
        except KeyboardInterrupt:                 # (only where no handler could be installed)
            interrupted.append(True)
        finally:
            interrupted.restore()
            bar.close()
        if interrupted:
            self.save(step)
            print(f"interrupted at step {step}: checkpoint saved to {args.out}", file=sys.stderr)
        return step

    def sample(self, length=200):
        g = np.random.default_rng(0)              # its own generator: sampling leaves training's RNG untouched
        prime = self.vocab.decode(self.rows[:1, 0])      # the text's first character
        text = generate(self.model, self.vocab, prime=prime, length=length, temperature=0.8, generator=g)
        self.model.train()
        return text

    def save(self, step):
        checkpoint.save(self.args.out, self.model.state_dict(), self.optimizer.state_dict(), self.config,
                        self.vocab.chars, step, rng.generator.bit_generator.state)


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


class _ctrl_c_flag(list):
    """A list that SIGINT appends to while training runs (so it is true after Ctrl-C); restore() undoes the handler."""

    def __init__(self):
        super().__init__()
        try:
            self.previous = signal.signal(signal.SIGINT, lambda signum, frame: self.append(signum))
        except ValueError:                        # not the main thread: Ctrl-C stays a KeyboardInterrupt
            self.previous = None

    def restore(self):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def _progress(step, steps, quiet):
    from tqdm import tqdm

    return tqdm(total=steps, initial=step, disable=quiet, unit="step", dynamic_ncols=True)
