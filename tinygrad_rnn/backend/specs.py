"""What every kernel takes, declared once: the table the boundary checks arguments against (checks.py).

A kernel is called as kernel(*inputs, act, *outputs[, reverse][, transposed]), Cython and NumPy twin alike
(_kernels/README.md).
Shapes are written in the kernel's dimensions: T steps, B batch, H hidden, I inputs, O outputs ("B 4H" is (B, 4·H)); the
reference input (`ref`) sets the dtype of every array and the first dimensions, and a dimension not known yet is
taken from the first array that has it (a linear's O from its weight). Lower-case dimensions are any size. An input
marked `?` may be None (a zero upstream gradient, or no bias); an output given as None is allocated by the kernel
(linear_act_backward: not computed).
"""
from typing import NamedTuple

from ..activations import GATE_NAMES, NAMES

RNN_NONLINEARITIES = ("tanh", "relu")


class Spec(NamedTuple):
    module: str          # the _kernels module holding it: "linear", "gates", "steps" or "sequence"
    inputs: tuple        # (name, shape, optional) per input; shape: ((factor, dimension), ...)
    act: str             # the name of its activation argument ("act", "nonlinearity"), or None: it takes none
    acts: tuple          # the activation names it takes; the first is the default
    outputs: tuple       # (name, shape) per output
    ref: int             # the index of the reference input
    transposes: int      # the index of the input given transposed when the trailing `transposed` is true, or None
    defaults: tuple      # what fills the arguments after the inputs when a caller leaves them out
    arity: int           # how many arguments the kernel takes


def _shape(text):
    """'B 4H' -> ((1, 'B'), (4, 'H'))"""
    return tuple((int(part[:-1] or 1), part[-1]) for part in text.split())


def _spec(module, inputs, act, outputs, ref, transposes=None, reverse=False):
    ins = []
    for item in inputs.split(","):
        name, shape = item.split(":")
        name = name.strip()
        ins.append((name.rstrip("?"), _shape(shape), name.endswith("?")))
    outs = tuple((name.strip(), _shape(shape)) for name, shape in (item.split(":") for item in outputs.split(",")))
    names = [name for name, _, _ in ins]
    act_name, acts = act if act else (None, ())
    # trailing flags: `reverse` (the sequence kernels), then `transposed` (always last: checks.py reads argv[-1])
    defaults = (acts[:1] if act else ()) + (None,) * len(outs) + ((False,) if reverse else ()) + (
        (False,) if transposes else ())
    return Spec(module, tuple(ins), act_name, acts, outs, names.index(ref),
                names.index(transposes) if transposes else None, defaults, len(ins) + len(defaults))


GATE = ("act", GATE_NAMES)

SPECS = {
    # fused linear + activation
    "linear_act_forward": _spec("linear", "x: B I, weight: O I, bias?: O", ("act", NAMES), "out: B O", "x"),
    "linear_act_backward": _spec("linear", "x: B I, weight: O I, y: B O, dy: B O", ("act", NAMES),
                                 "dx: B I, dweight: O I, dbias: O", "x"),
    "outer_product": _spec("linear", "left: N O, right: N I", None, "out: O I", "left"),
    "outer_products": _spec("linear", "left: N O, right: N I, right2: N J", None, "out: O I, out2: O J", "left"),
    # gate updates (gates.pyx): the GEMMs stay outside
    "lstm_gates_forward": _spec("gates", "z: B 4H, c_prev: B H", GATE, "gates: B 4H, c: B H, h: B H", "c_prev"),
    "lstm_gates_backward": _spec("gates", "gates: B 4H, c_prev: B H, c: B H, dh?: B H, dc?: B H", GATE,
                                 "dz: B 4H, dc_prev: B H", "c_prev"),
    "peephole_gates_forward": _spec("gates", "z: B 4H, c_prev: B H, w_ci: H, w_cf: H, w_co: H", GATE,
                                    "gates: B 4H, c: B H, h: B H", "c_prev"),
    "peephole_gates_backward": _spec("gates", "gates: B 4H, c_prev: B H, c: B H, w_ci: H, w_cf: H, w_co: H, "
                                     "dh?: B H, dc?: B H", GATE,
                                     "dz: B 4H, dc_prev: B H, dw_ci: H, dw_cf: H, dw_co: H", "c_prev"),
    "gru_gates_forward": _spec("gates", "xp: B 3H, hp: B 3H, h_prev: B H", GATE, "gates: B 3H, h: B H", "h_prev"),
    "gru_gates_backward": _spec("gates", "gates: B 3H, hp: B 3H, h_prev: B H, dh?: B H", GATE,
                                "dxp: B 3H, dhp: B 3H, dh_prev: B H", "h_prev"),
    "gru_cho_reset_forward": _spec("gates", "xp: B 3H, hp_rz: B 2H, h_prev: B H", GATE, "gates_rz: B 2H, rh: B H",
                                   "h_prev"),
    "gru_cho_update_forward": _spec("gates", "xp: B 3H, hn: B H, gates_rz: B 2H, h_prev: B H", None,
                                    "n: B H, h: B H", "h_prev"),
    "gru_cho_update_backward": _spec("gates", "gates_rz: B 2H, n: B H, h_prev: B H, dh: B H", GATE,
                                     "dz_pre: B H, dn_pre: B H, dh_prev: B H", "h_prev"),
    "gru_cho_reset_backward": _spec("gates", "gates_rz: B 2H, h_prev: B H, d_rh: B H", GATE,
                                    "dr_pre: B H, dh_prev: B H", "h_prev"),
    # steps (steps.pyx): the recurrent GEMM and the gate update in one call
    "lstm_step_forward": _spec("steps", "xp: B 4H, h_prev: B H, c_prev: B H, w_hh: 4H H", GATE,
                               "gates: B 4H, c: B H, h: B H", "h_prev", transposes="w_hh"),
    "lstm_step_backward": _spec("steps", "gates: B 4H, c_prev: B H, c: B H, w_hh: 4H H, dh?: B H, dc?: B H", GATE,
                                "dz: B 4H, dc_prev: B H, dh_prev: B H", "c_prev"),
    "peephole_step_forward": _spec("steps", "xp: B 4H, h_prev: B H, c_prev: B H, w_hh: 4H H, w_ci: H, w_cf: H, "
                                   "w_co: H", GATE, "gates: B 4H, c: B H, h: B H", "h_prev", transposes="w_hh"),
    "peephole_step_backward": _spec("steps", "gates: B 4H, c_prev: B H, c: B H, w_hh: 4H H, w_ci: H, w_cf: H, "
                                    "w_co: H, dh?: B H, dc?: B H", GATE,
                                    "dz: B 4H, dc_prev: B H, dh_prev: B H, dw_ci: H, dw_cf: H, dw_co: H", "c_prev"),
    "gru_step_forward": _spec("steps", "xp: B 3H, h_prev: B H, w_hh: 3H H, b_hh?: 3H", GATE,
                              "hp: B 3H, gates: B 3H, h: B H", "h_prev", transposes="w_hh"),
    "gru_step_backward": _spec("steps", "gates: B 3H, hp: B 3H, h_prev: B H, w_hh: 3H H, dh?: B H", GATE,
                               "dxp: B 3H, dhp: B 3H, dh_prev: B H", "h_prev"),
    "rnn_step_forward": _spec("steps", "xp: B H, h_prev: B H, w_hh: H H", ("nonlinearity", RNN_NONLINEARITIES),
                              "h: B H", "h_prev", transposes="w_hh"),
    "rnn_step_backward": _spec("steps", "h: B H, w_hh: H H, dh?: B H", ("nonlinearity", RNN_NONLINEARITIES),
                               "dz: B H, dh_prev: B H", "h"),
    # W_hhᵀ, once per sequence (a Scan hands it to the step forwards above as `transposed`)
    "transposed": _spec("steps", "w: m n", None, "out: n m", "w"),
    # sequences (sequence.pyx): the whole loop over T steps in one call; keep (T, B) is nonzero where a step counts
    "rnn_sequence_forward": _spec("sequence", "xp: T B H, h0: B H, w_hh: H H, keep?: T B",
                                  ("nonlinearity", RNN_NONLINEARITIES), "hs: T B H, ys: T B H", "h0",
                                  transposes="w_hh", reverse=True),
    "rnn_sequence_backward": _spec("sequence", "hs: T B H, w_hh: H H, keep?: T B, dys?: T B H, dh_n?: B H",
                                   ("nonlinearity", RNN_NONLINEARITIES), "dz: T B H, dh0: B H", "hs", reverse=True),
    "lstm_sequence_forward": _spec("sequence", "xp: T B 4H, h0: B H, c0: B H, w_hh: 4H H, keep?: T B", GATE,
                                   "gates: T B 4H, cs: T B H, hs: T B H, ys: T B H", "h0", transposes="w_hh",
                                   reverse=True),
    "lstm_sequence_backward": _spec("sequence", "gates: T B 4H, cs: T B H, c0: B H, w_hh: 4H H, keep?: T B, "
                                    "dys?: T B H, dh_n?: B H, dc_n?: B H, dcs?: T B H", GATE,
                                    "dz: T B 4H, dh0: B H, dc0: B H", "c0", reverse=True),
    "peephole_sequence_forward": _spec("sequence", "xp: T B 4H, h0: B H, c0: B H, w_hh: 4H H, w_ci: H, w_cf: H, "
                                       "w_co: H, keep?: T B", GATE, "gates: T B 4H, cs: T B H, hs: T B H, ys: T B H",
                                       "h0", transposes="w_hh", reverse=True),
    "peephole_sequence_backward": _spec("sequence", "gates: T B 4H, cs: T B H, c0: B H, w_hh: 4H H, w_ci: H, "
                                        "w_cf: H, w_co: H, keep?: T B, dys?: T B H, dh_n?: B H, dc_n?: B H, "
                                        "dcs?: T B H", GATE,
                                        "dz: T B 4H, dh0: B H, dc0: B H, dw_ci: H, dw_cf: H, dw_co: H", "c0",
                                        reverse=True),
    "gru_sequence_forward": _spec("sequence", "xp: T B 3H, h0: B H, w_hh: 3H H, b_hh?: 3H, keep?: T B", GATE,
                                  "hp: T B 3H, gates: T B 3H, hs: T B H, ys: T B H", "h0", transposes="w_hh",
                                  reverse=True),
    "gru_sequence_backward": _spec("sequence", "gates: T B 3H, hp: T B 3H, hs: T B H, h0: B H, w_hh: 3H H, "
                                   "keep?: T B, dys?: T B H, dh_n?: B H", GATE, "dxp: T B 3H, dhp: T B 3H, dh0: B H",
                                   "h0", reverse=True),
    "gru_cho_sequence_forward": _spec("sequence", "xp: T B 3H, h0: B H, w_rz: 2H H, w_n: H H, keep?: T B", GATE,
                                      "gates_rz: T B 2H, rh: T B H, n: T B H, hs: T B H, ys: T B H", "h0",
                                      reverse=True),
    "gru_cho_sequence_backward": _spec("sequence", "gates_rz: T B 2H, n: T B H, hs: T B H, h0: B H, w_rz: 2H H, "
                                       "w_n: H H, keep?: T B, dys?: T B H, dh_n?: B H", GATE, "dxp: T B 3H, dh0: B H",
                                       "h0", reverse=True),
}
