"""`python -m tinygrad_rnn sample CHECKPOINT`: generate text from a trained character model."""
import numpy as np

from .. import checkpoint, no_grad
from .charlm import build_model, estimate_bytes, model_options
from .cli import UsageError, positive_float, positive_int, random_seed
from .data import DataError, Vocabulary

HELP = "generate text from a checkpoint written by `train`"


class NonFiniteLogits(ValueError):
    """A model whose weights make NaN or infinite logits: there is no distribution to sample from."""


def generate(model, vocab, prime, length, temperature=1.0, generator=None):
    """prime + `length` characters drawn one at a time from softmax(logits / temperature).

    The logits are shifted by their maximum before the division, so a tiny temperature (1e-320) gives 0 and −inf
    (the argmax, ties shared) rather than inf − inf = NaN. A model whose clock counts time from 0 at every call (the
    clockwork cell, model.clock_period > 1) is fed in blocks of clock_period characters: each new character reruns
    the block so far from the state at the block's start, so every step sees its true position in the text.
    """
    generator = generator or np.random.default_rng()
    period = getattr(model, "clock_period", 1)
    model.eval()
    with no_grad():
        ids = list(vocab.encode(prime))
        whole = len(ids) // period * period
        base, logits = None, None
        if whole:
            logits, base = model(np.array(ids[:whole]).reshape(-1, 1))
        block = ids[whole:]
        if block:
            logits, state = model(np.array(block).reshape(-1, 1), base)
        out = []
        for _ in range(length):
            z = logits.data[-1, 0].astype(np.float64)
            if not np.isfinite(z).all():
                raise NonFiniteLogits("the model's logits are not finite (NaN or infinite weights)")
            with np.errstate(over="ignore"):      # (z − max) / T → −inf is the intended limit
                p = np.exp((z - z.max()) / temperature)
            nxt = generator.choice(len(p), p=p / p.sum())
            out.append(nxt)
            block.append(nxt)
            logits, state = model(np.array(block).reshape(-1, 1), base)
            if len(block) == period:              # a whole block: its end state is the next block's start
                base, block = state, []
    return prime + vocab.decode(out)


def add_arguments(parser):
    parser.add_argument("checkpoint", help="a checkpoint written by `python -m tinygrad_rnn train` (.safetensors; "
                        "any cell or preset: the model is rebuilt from its config)")
    parser.add_argument("--prime", default="\n", help="text to start from (default: a newline)")
    parser.add_argument("--length", type=positive_int, default=400, help="characters to generate")
    parser.add_argument("--temperature", type=positive_float, default=0.8, help="< 1: safer, > 1: wilder")
    parser.add_argument("--seed", type=random_seed, default=None,
                        help="for a reproducible sample (default: a fresh one each run)")


def load_model(path):
    """(model, vocabulary) rebuilt from a checkpoint, or UsageError with the checkpoint's one-line complaint."""
    from .files import require_regular_file
    from .resources import require_memory

    require_regular_file(path, f"checkpoint {path}")     # a FIFO would block np.load forever
    try:
        saved = checkpoint.load(path)
    except checkpoint.CheckpointError as err:
        raise UsageError(str(err)) from None
    config, chars = saved["config"], saved["vocab"]
    needed = ("cell", "hidden", "layers", "dtype")
    if chars is None or any(k not in config for k in needed):
        raise UsageError(f"{path}: not a character-model checkpoint (no vocabulary or model config)")
    vocab = Vocabulary(chars)
    try:
        options = model_options(config, len(vocab))
        estimate = estimate_bytes(len(vocab), options["hidden"], options["layers"], options["cell"], 1, 1,
                                  np.dtype(options["dtype"]).itemsize, weight_copies=1,
                                  embedding=options["embedding"])
    except (KeyError, TypeError, ValueError) as err:
        raise UsageError(f"{path}: not a character-model checkpoint (its model config is unusable: {err})") from None
    require_memory(estimate, f"the model of {path}")
    model = build_model(len(vocab), options)
    try:
        model.load_state_dict(saved["model"])
    except (KeyError, ValueError, RuntimeError) as err:
        raise UsageError(f"{path}: its weights do not fit the model it describes: {err}") from None
    return model, vocab


def run(args):
    if not args.prime:
        raise UsageError("--prime: expected at least one character, but got an empty string")
    model, vocab = load_model(args.checkpoint)
    try:
        text = generate(model, vocab, args.prime, args.length, args.temperature, np.random.default_rng(args.seed))
    except DataError as err:
        raise UsageError(f"--prime: {err}") from None
    except NonFiniteLogits as err:
        raise UsageError(f"{args.checkpoint}: {err}") from None
    print(text)
    return 0
