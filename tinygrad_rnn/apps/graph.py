"""`python -m tinygrad_rnn graph`: the tape of a small recurrent layer as a Graphviz DOT file, one cluster per step.

A layer (input size 2, hidden size 4, batch 1) runs over a random sequence inside `viz.recording()`, so each step is
recorded as its own node(s) tagged with t; the loss is the sum of its outputs. The DOT file shows every tape node
(op, output shapes), the parameters as blue boxes, the initial state h₀ (c₀) in green, the steps as clusters in time
order from left to right and the state's edges labelled h (c); beyond --max-steps steps the middle ones are folded
into one box ("steps 3–18 as step 2"), so that --steps 20 stays a page. The per-step summary is printed.
"""
import os
import shutil
import subprocess

from .. import manual_seed, nn, randn, viz
from .cli import UsageError, int_at_least, positive_int
from .files import require_regular_file

HELP = "write the tape of a small recurrent layer as Graphviz DOT (one cluster per time step)"
CELLS = nn.LAYERS


def build_graph(cell="lstm", steps=3, fused=True, input_size=2, hidden=4, seed=0):
    """(loss, layer, recorder) for one sequence of `steps` steps through a fresh `cell` layer."""
    manual_seed(seed)
    layer = CELLS[cell](input_size, hidden, fused=fused)
    x = randn(steps, 1, input_size)
    with viz.recording() as rec:
        output, _ = layer(x)
    return output.sum(), layer, rec


def add_arguments(parser):
    parser.add_argument("--cell", choices=sorted(CELLS), default="lstm", help="the cell whose tape is drawn")
    parser.add_argument("--steps", type=positive_int, default=3, help="sequence length T (default 3)")
    parser.add_argument("--unfused", action="store_true", help="record each step as primitive ops (fused=False)")
    parser.add_argument("--out", default="graph.dot", help="DOT file to write (default graph.dot)")
    parser.add_argument("--png", action="store_true",
                        help="also render <out without .dot>.png with Graphviz's dot program")
    parser.add_argument("--max-steps", type=int_at_least(3), default=5,
                        help="draw at most this many steps: the first ones and the last, the middle folded into one "
                             "box (default 5)")
    parser.add_argument("--max-nodes", type=positive_int, default=500,
                        help="draw at most this many nodes, those nearest the loss (default 500)")


def run(args):
    require_regular_file(args.out, "--out")       # a FIFO would block the write, a device would take it
    if args.png:
        require_regular_file(os.path.splitext(args.out)[0] + ".png", "--png's file")
    loss, layer, rec = build_graph(args.cell, args.steps, fused=not args.unfused)
    text = viz.to_dot(loss, params=layer, steps=rec, max_nodes=args.max_nodes, max_steps=args.max_steps)
    try:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as err:
        raise UsageError(f"cannot write {args.out}: {err.strerror or err}") from None
    print(viz.summary(loss, params=layer, steps=rec))
    print(f"wrote {args.out}")
    if args.png:
        png = os.path.splitext(args.out)[0] + ".png"
        dot = shutil.which("dot")
        if dot is None:
            raise UsageError(f"--png needs Graphviz's `dot` program, which is not installed (e.g. apt-get install "
                             f"graphviz or brew install graphviz); {args.out} was written")
        result = subprocess.run([dot, "-Tpng", args.out, "-o", png], capture_output=True, text=True)
        if result.returncode != 0:
            first = (result.stderr.strip().splitlines() or ["no message"])[0]
            raise UsageError(f"dot failed on {args.out} (exit {result.returncode}): {first}")
        print(f"wrote {png}")
    return 0
