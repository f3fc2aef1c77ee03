"""`python -m tinygrad_rnn <command>`: argparse front end; bad input is one line on stderr and exit code 2."""
import argparse
import sys

import numpy as np


def positive_int(text):
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def positive_float(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


class OneLineParser(argparse.ArgumentParser):
    """Reports bad arguments as one line on stderr (no usage dump) and exits with code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser():
    parser = OneLineParser(prog="python -m tinygrad_rnn", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    demo = commands.add_parser("demo", help="train a tiny RNN on a sine wave and print a falling loss")
    demo.add_argument("--steps", type=positive_int, default=300)
    demo.add_argument("--hidden", type=positive_int, default=16)
    demo.add_argument("--seq-len", type=positive_int, default=20)
    demo.add_argument("--lr", type=positive_float, default=0.05)
    demo.add_argument("--dtype", choices=["float32", "float64"], default="float64")
    demo.add_argument("--seed", type=int, default=0)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        from .demo import run_demo

        losses = run_demo(steps=args.steps, hidden=args.hidden, seq_len=args.seq_len, lr=args.lr,
                          seed=args.seed, dtype=np.dtype(args.dtype))
        print(f"loss fell from {losses[0]:.5f} to {losses[-1]:.5f} in {len(losses)} steps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
