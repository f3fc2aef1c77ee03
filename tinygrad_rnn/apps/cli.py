"""`python -m tinygrad_rnn <command>`: argparse front end; bad input is one line on stderr and exit code 2.

Each command lives in its own module, which provides HELP, add_arguments(parser) and run(args) -> exit code;
run raises UsageError for input it refuses (a missing file, a checkpoint from another model, ...): exit code 2;
RunError for a run that started but cannot go on (a non-finite loss): exit code 1. Both are one line on stderr.
"""
import argparse
import importlib
import math
import sys
import textwrap

COMMANDS = {  # name -> module
    "train": "tinygrad_rnn.apps.train",
    "sample": "tinygrad_rnn.apps.sample",
    "compare": "tinygrad_rnn.apps.compare",
    "adding": "tinygrad_rnn.apps.adding",
    "demo": "tinygrad_rnn.apps.demo",
    "bench": "tinygrad_rnn.apps.bench",
    "graph": "tinygrad_rnn.apps.graph",
    "gradflow": "tinygrad_rnn.apps.gradflow",
    "export": "tinygrad_rnn.apps.export",
    "exercise": "tinygrad_rnn.apps.exercise",
}


class UsageError(Exception):
    """Bad input from the user: reported as one line on stderr, exit code 2, no traceback."""


class RunError(Exception):
    """A run that cannot go on (its loss is no longer finite): one line on stderr, exit code 1, no traceback."""


SEED_LIMIT = 2**64  # torch.manual_seed's unsigned range; numpy's SeedSequence refuses negatives


def _number(convert, accept, expected):
    """An argparse type: convert(text), refused with "expected <expected>, got ..." unless accept(value)."""
    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text}")
        return value
    return parse


def int_at_least(minimum):
    """An argparse type: an integer >= minimum."""
    return _number(int, lambda v: v >= minimum, f"an integer >= {minimum}")


random_seed = _number(int, lambda v: 0 <= v < SEED_LIMIT, "an integer in [0, 2**64)")
positive_int = _number(int, lambda v: v > 0, "a positive integer")
# inf is refused: a learning rate or temperature no run survives
positive_float = _number(float, lambda v: 0 < v < math.inf, "a positive finite number")
probability = _number(float, lambda v: 0 <= v < 1, "a number in [0, 1)")


class DefaultsShown(argparse.HelpFormatter):
    """Help that shows every option's default: options whose help does not say it get "(default: X)" appended;
    the help of an option whose default is None (worked out at run time) says it in words."""

    def _get_help_string(self, action):
        text = action.help or ""
        shown = (action.default is not None and action.default is not argparse.SUPPRESS
                 and not isinstance(action.default, bool))
        if shown and action.option_strings and "default" not in text:
            default = action.default
            if isinstance(default, (list, tuple)):
                default = ",".join(map(str, default))
            text += f" (default: {str(default).replace('%', '%%')})"
        return text

    def _split_lines(self, text, width):
        # never at a hyphen: option names (--no-carry-state) and cell names (gru-cho) stay whole
        return textwrap.wrap(self._whitespace_matcher.sub(" ", text).strip(), width, break_on_hyphens=False)


class OneLineParser(argparse.ArgumentParser):
    """Reports bad arguments as one line on stderr (no usage dump) and exits with code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser():
    from .. import __version__

    parser = OneLineParser(prog="python -m tinygrad_rnn", description=__doc__.splitlines()[0],
                           formatter_class=DefaultsShown)
    parser.add_argument("--version", action="version", version=f"tinygrad_rnn {__version__}",
                        help="print the version and exit")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        sub = commands.add_parser(name, help=module.HELP, description=module.HELP, formatter_class=DefaultsShown)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (UsageError, RunError) as err:
        one_line = " ".join(str(err).split())          # messages quoting other errors may span lines
        print(f"python -m tinygrad_rnn {args.command}: error: {one_line}", file=sys.stderr)
        return 2 if isinstance(err, UsageError) else 1
    except KeyboardInterrupt:
        print(f"python -m tinygrad_rnn {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
