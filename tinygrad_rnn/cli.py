"""`python -m tinygrad_rnn <command>`: argparse front end; bad input is one line on stderr and exit code 2.

Each command lives in its own module, which provides HELP, add_arguments(parser) and run(args) -> exit code;
run raises UsageError for input it refuses (a missing file, a checkpoint from another model, ...).
"""
import argparse
import importlib
import sys

COMMANDS = {  # name -> module
    "train": "tinygrad_rnn.train",
    "sample": "tinygrad_rnn.sample",
    "adding": "tinygrad_rnn.adding",
    "demo": "tinygrad_rnn.demo",
    "bench": "tinygrad_rnn.bench",
    "graph": "tinygrad_rnn.graph_cli",
    "gradflow": "tinygrad_rnn.gradflow",
}


class UsageError(Exception):
    """Bad input from the user: reported as one line on stderr, exit code 2, no traceback."""


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def probability(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text}")
    return value


class OneLineParser(argparse.ArgumentParser):
    """Reports bad arguments as one line on stderr (no usage dump) and exits with code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser():
    parser = OneLineParser(prog="python -m tinygrad_rnn", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        sub = commands.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except UsageError as err:
        one_line = " ".join(str(err).split())          # messages quoting other errors may span lines
        print(f"python -m tinygrad_rnn {args.command}: error: {one_line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"python -m tinygrad_rnn {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
