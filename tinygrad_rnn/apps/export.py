"""`python -m tinygrad_rnn export CHECKPOINT --onnx FILE`: the character model of a checkpoint as an ONNX model."""
import os
import stat

import numpy as np

from .cli import UsageError
from .files import _kind, require_regular_file, same_file

HELP = "write a checkpoint's character model as an ONNX file (needs the onnx package)"


def add_arguments(parser):
    parser.add_argument("checkpoint", help="a checkpoint written by `python -m tinygrad_rnn train`")
    parser.add_argument("--onnx", required=True, metavar="FILE",
                        help="the ONNX file to write: chars (seq, batch) int64 and the initial state in; logits and the final "
                             "state out")
    parser.add_argument("--no-state", action="store_true",
                        help="leave out the h_0/c_0 inputs (every call starts from zeros) (default: with them)")
    parser.add_argument("--force", action="store_true", help="replace FILE if it exists (default: refuse)")


def check_target(path, checkpoint, force):
    """Refuses an output that is not a regular file, the checkpoint itself, or (without --force) an existing file."""
    if not os.path.lexists(path):
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise UsageError(f"--onnx {path}: the directory {directory} does not exist")
        return
    try:
        mode = os.stat(path).st_mode
    except OSError as err:
        raise UsageError(f"--onnx {path}: is a symbolic link to nothing ({err.strerror})") from None
    if not stat.S_ISREG(mode):
        raise UsageError(f"--onnx {path}: is {_kind(mode)}, expected a regular file or a new name")
    if same_file(path, checkpoint):
        raise UsageError(f"--onnx {path}: is the checkpoint being exported; it would be replaced")
    if not force:
        raise UsageError(f"--onnx {path}: exists; pass --force to replace it, or choose another name")


def run(args):
    try:
        from .. import onnx as tg_onnx
    except ImportError as err:
        raise UsageError(f"export needs the onnx package ({err}); pip install onnx") from None
    require_regular_file(args.checkpoint, f"checkpoint {args.checkpoint}")
    check_target(args.onnx, args.checkpoint, args.force)
    from .sample import load_model

    model, vocab = load_model(args.checkpoint)
    try:
        tg_onnx.export(model, np.zeros((1, 1), np.int64), args.onnx, initial_state=not args.no_state)
    except NotImplementedError as err:
        raise UsageError(str(err)) from None
    print(f"wrote {args.onnx}: the {model.config['cell']} character model, vocabulary of {len(vocab)}")
    return 0
