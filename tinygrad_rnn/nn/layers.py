"""Sequence layers RNN, LSTM, PeepholeLSTM, GRU: PyTorch's interface, parameter names and return values.

The driver unrolls a recurrence over time on the tape. Per layer and direction it records one input-projection
node for all T steps, one node cutting it into steps, then per step only the step node (fused) or its primitive
ops (unfused): backpropagation through time is just the tape run backwards. Every layer also takes a
PackedSequence (nn.utils.rnn) and then returns one, as torch's do: it runs through the `lengths=` path.

Memory-efficient BPTT (Chen et al. 2016; Gruslys et al. 2016): with `checkpoint_every=k` each layer and direction
runs as ⌈T/k⌉ segments of k steps, each one utils.checkpoint node. The forward keeps only the carried state between
segments (and the outputs); a segment's backward runs its k steps again on a local tape and sweeps it, so the tape
holds T/k states plus one segment's steps instead of T steps: O(T/k + k) memory for about one more forward pass.
"""
from __future__ import annotations

import numbers
import warnings
from typing import TYPE_CHECKING

import numpy as np

from .. import grad_mode
from ..ops.shape import Cat
from ..tensor import Tensor, _float_dtype, cat, engine_constant, stack, where
from ..utils.checkpoint import checkpoint
from . import init
from .cells import set_forget_bias
from .checks import (check_checkpoint_every, check_choice, check_hx_tuple, check_input, check_layer_size,
                     check_no_projection, check_proj_size, check_state)
from .functional import dropout as dropout_fn
from ..fused import Scan, runs_kernel, trace_names
from . import step_watch
from .module import Module, Parameter
from .recurrences import (GATE_ACTIVATIONS, GRUChoRecurrence, GRURecurrence, LSTMRecurrence,
                          NoOutputTanhLSTMRecurrence, PeepholeLSTMRecurrence, ProjectedLSTMRecurrence,
                          RNNRecurrence)
from .utils.rnn import PackedSequence, packed_like, padded_from_packed

if TYPE_CHECKING:
    from typing import Any

    from .._typing import DTypeLike


class RNNBase(Module):
    """Stacked, optionally bidirectional, recurrence over (T, B, I) input (or (B, T, I) with batch_first).

    A fused layer records each layer and direction's loop over time as one Scan node (see scan.py: its backward
    applies each step's own backward in reverse, with none of the per-step tape bookkeeping). Set `layer.scan =
    False` to record one node per step instead, so hooks and graph views see every h_t; the numbers are the same.
    `checkpoint_every=k` (or `layer.checkpoint_every = k`; None: off) recomputes the steps in backward, k at a time,
    instead of keeping them on the tape (see the module's docstring); inside viz.recording() it is off.
    """

    peephole = False
    scan = True

    def __init__(self, recurrence: Any, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 forget_bias: float | None = None, dtype: DTypeLike = None, proj_size: int = 0,
                 checkpoint_every: int | None = None) -> None:
        super().__init__()
        owner = type(self).__name__
        check_checkpoint_every(owner, checkpoint_every)
        check_layer_size(owner, "input_size", input_size)
        check_layer_size(owner, "hidden_size", hidden_size)
        check_layer_size(owner, "num_layers", num_layers)
        check_proj_size(owner, proj_size, hidden_size)
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout <= 1:
            raise ValueError(f"{owner}: dropout should be a number in range [0, 1] representing the probability "
                             f"of an element being zeroed, but got {dropout!r}")
        if dropout > 0 and num_layers == 1:                  # torch's warning, word for word
            warnings.warn(f"dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                          stacklevel=3)
        self.input_size: int = input_size
        self.hidden_size: int = hidden_size
        self.num_layers: int = num_layers
        self.bias: bool = bool(bias)
        self.batch_first: bool = bool(batch_first)
        self.dropout: float = float(dropout)
        self.bidirectional = bool(bidirectional)
        self.proj_size = int(proj_size)
        self.checkpoint_every = checkpoint_every
        self.recurrence = recurrence
        directions = 2 if bidirectional else 1
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else self._output_size * directions
            for d in range(directions):
                weights = self._layer_weights(layer, layer_input, bias, _float_dtype(dtype))
                if recurrence.has_cell_state:
                    set_forget_bias(weights, hidden_size, forget_bias)
                for name, value in weights.items():
                    self.register_parameter(name + self._suffix(layer, d), None if value is None else Parameter(value))

    def _layer_weights(self, layer, layer_input, bias, dtype):
        """The weights of one layer and direction, by name without the _l{k} suffix (subclasses add their own)."""
        weights = init.recurrent_weights(layer_input, self.hidden_size, self.recurrence.n_gates, bias, dtype,
                                         self.peephole)
        if self.proj_size:                   # torch's LSTMP layout: W_hh (4H, P), then W_hr (P, H) after the biases
            bound = 1.0 / np.sqrt(self.hidden_size)
            weights["weight_hh"] = init.uniform((self.recurrence.n_gates * self.hidden_size, self.proj_size), bound,
                                                dtype)
            weights["weight_hr"] = init.uniform((self.proj_size, self.hidden_size), bound, dtype)
        return weights

    @property
    def _output_size(self):
        """The units of h_t: proj_size when there is a projection, else hidden_size."""
        return self.proj_size or self.hidden_size

    @staticmethod
    def _suffix(layer, direction):
        return f"_l{layer}" + ("_reverse" if direction else "")

    def _weights(self, layer, direction):
        suffix = self._suffix(layer, direction)
        return {name[: -len(suffix)]: p for name, p in self._parameters.items() if name.endswith(suffix)}

    def forward(self, input: Any, hx: Any = None, lengths: Any = None, return_gates: bool = False) -> Any:
        """output (T, B, D·H) and h_n (L·D, B, H) (LSTMs: (h_n, c_n); with proj_size P, h_n (L·D, B, P) and the
        output (T, B, D·P)); with return_gates also a trace per layer and direction: {"gates": (T, B, G·H), "c":
        (T, B, H) for LSTMs}. lengths (B,): each sequence's length. A PackedSequence input gives a PackedSequence
        output (packed as the input), its states in the caller's batch order."""
        owner = type(self).__name__
        dtype = self.weight_ih_l0.dtype
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx, lengths, return_gates)
        check_input(owner, input, self.input_size, dtype, (2, 3))
        batched = input.ndim == 3
        x = input if batched else input.reshape(input.shape[0], 1, input.shape[1])
        if batched and self.batch_first:
            x = x.transpose(0, 1)
        output, state, traces = self._unroll(x, hx, lengths, batched, return_gates, tuple(input.shape))
        if batched and self.batch_first:
            output = output.transpose(0, 1)
        if not batched:
            output = output.reshape(output.shape[0], -1)
            state = [s.reshape(s.shape[0], -1) for s in state]
        state = tuple(state) if len(state) == 2 else state[0]
        return (output, state, traces) if return_gates else (output, state)

    def _forward_packed(self, input, hx, lengths, return_gates):
        """forward of a PackedSequence: padded (in the caller's batch order) and run with its lengths; the output
        packed again as the input was."""
        owner = type(self).__name__
        if lengths is not None:
            raise ValueError(f"{owner}: lengths= cannot be given with a PackedSequence input (its batch_sizes hold "
                             f"the lengths)")
        check_input(owner, input.data, self.input_size, self.weight_ih_l0.dtype, (2,), what="input.data")
        x, lengths = padded_from_packed(input)
        output, state, traces = self._unroll(x, hx, lengths, True, return_gates, tuple(x.shape))
        output = packed_like(output, input)
        state = tuple(state) if len(state) == 2 else state[0]
        return (output, state, traces) if return_gates else (output, state)

    def _unroll(self, x, hx, lengths, batched, return_gates, input_shape):
        """Every layer and direction over x (T, B, I) -> (output (T, B, D·H), [h_n (L·D, B, H), c_n], traces)."""
        owner = type(self).__name__
        dtype = self.weight_ih_l0.dtype
        steps, batch = x.shape[0], x.shape[1]
        if steps == 0:                                   # (an empty batch is fine: every kernel takes B = 0)
            raise ValueError(f"{owner}: Expected sequence length to be larger than 0, but got input of shape "
                             f"{input_shape}")
        masks = self._step_masks(lengths, steps, batch)
        every = self.checkpoint_every
        check_checkpoint_every(owner, every)          # (again: the attribute may have been set after __init__)
        run = self._run
        if every is not None and grad_mode.is_grad_enabled() and step_watch.watcher() is None:
            run = self._run_checkpointed
        initial = self._initial_states(hx, batch, batched, dtype)
        directions = 2 if self.bidirectional else 1
        finals, traces = [], []
        lower = [None] * directions  # per direction, the layer below's c_t for every t (recurrences that ask)
        for layer in range(self.num_layers):
            outputs = []
            for d in range(directions):
                k = layer * directions + d
                y, state, trace, lower[d] = run(x, [s[k] for s in initial], self._weights(layer, d), d == 1,
                                                      masks, return_gates, lower[d])
                outputs.append(y)
                finals.append(state)
                traces.append(trace)
            x = outputs[0] if directions == 1 else cat(outputs, dim=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = dropout_fn(x, self.dropout)
        n_states = 2 if self.recurrence.has_cell_state else 1
        if len(finals) == 1 and all(f.ndim == 3 for f in finals[0]):   # a Scan gave them back as (1, B, H)
            return x, list(finals[0]), traces
        return x, [stack([f[j] for f in finals], dim=0) for j in range(n_states)], traces

    def _run_checkpointed(self, x, state, weights, reverse, masks, return_gates, lower=None):
        """_run over segments of checkpoint_every steps, each one checkpoint node: the same returns as _run.

        The carried state flows from segment to segment (backwards in time for the reverse direction). A segment's
        node keeps its arguments only: its slice of x (a view, from one Split node whose backward joins the
        segments' input gradients), the state it starts from, the weights (whose gradients are summed over the
        segments by the outer tape) and, for a depth-gated layer, the layer below's c_t of its steps."""
        inputs = [x, *state, *[w for w in weights.values() if w is not None], *(lower or ())]
        if not any(t is not None and t.requires_grad for t in inputs):   # a frozen layer: no tape either way
            return self._run(x, state, weights, reverse, masks, return_gates, lower)
        every, steps = self.checkpoint_every, x.shape[0]
        pieces = x.split(every, dim=0)
        n = len(pieces)
        ys, traces, cells, output = [None] * n, [None] * n, [None] * n, None
        for s in (range(n - 1, -1, -1) if reverse else range(n)):
            start = s * every
            stop = min(start + every, steps)
            piece_masks = None if masks is None else masks[start:stop]
            piece_lower = None if lower is None else list(lower[start:stop])

            def segment(xs, first, w, below, start=start, piece_masks=piece_masks):
                y, last, trace, c_t = self._run(xs, first, w, reverse, piece_masks, return_gates, below, start)
                # the fused loop's final state is a view into its (k+1, B, H) blocks: a copy lets them go
                return y, [h.clone() for h in last], trace, c_t

            ys[s], state, traces[s], cells[s] = checkpoint(segment, pieces[s], list(state), weights, piece_lower)
            if output is None:
                output = np.empty((steps,) + ys[s].shape[1:], ys[s].dtype)
            # each segment's output lives in one (T, B, H) array from the start, so the outputs are held once,
            # not once in their segments and again in the joined output
            output[start:stop] = ys[s].data
            ys[s].data = output[start:stop]
        trace = None
        if return_gates:
            trace = {name: cat([t[name] for t in traces], dim=0) for name in traces[0]}
        joined = None if cells[0] is None else [c for part in cells for c in part]
        return _JoinedSegments.apply(*ys, out=output), list(state), trace, joined

    def _run(self, x, state, weights, reverse, masks, return_gates, lower=None, start=0):
        """One layer, one direction over all T steps -> (outputs (T, B, H), final state list, trace or None,
        the c_t of every step if the recurrence's step_context asks for "lower_c", else None).

        step_context is the hook for recurrences that need more than (x_t, state): "t" passes the time index
        (0 .. T−1, the position in the sequence; x's first step is at `start`, a checkpointed segment's offset),
        "lower_c" the layer below's c_t (None in layer 0)."""
        rec = self.recurrence
        steps, batch = x.shape[0], x.shape[1]
        if rec.fused and getattr(type(rec).project, "takes_sequences", False):             # one GEMM for all t
            xp = rec.project(x, weights)                   # (the unfused, teaching tape keeps its reshapes)
        else:
            xp = rec.project(x.reshape(steps * batch, x.shape[2]), weights)
            xp = xp.reshape(steps, batch, xp.shape[1])
        prepared = rec.prepare(weights)
        context = rec.step_context
        recorder = step_watch.watcher()  # inside viz.recording(): one node per step, each tagged with its t
        scan = recorder is None and self.scan and rec.fused and not context and rec.scan_step(prepared, steps)
        if scan and return_gates and not runs_kernel(scan[0]):
            scan = None                         # only a sequence kernel gives the trace; the steps below do too
        if scan:
            step, consts, options = scan
            n = len(state)
            outs = Scan.apply(xp, *state, *consts, step=step, n_carry=n, reverse=reverse, masks=masks,
                              options={**options, "return_gates": True} if return_gates else options)
            trace = dict(zip(trace_names(step), outs[1 + n:])) if return_gates else None
            return outs[0], list(outs[1:1 + n]), trace, None
        state = [s.reshape(s.shape[1:]) if s.ndim == 3 else s for s in state]   # (1, B, H): see _initial_states
        xps = xp.unbind(0)
        if recorder is not None:
            recorder.mark_outside(xps, state, prepared)
        cell_state = rec.has_cell_state
        want_t, want_lower = "t" in context, "lower_c" in context
        outputs, gates_t, cells_t = [None] * steps, [None] * steps, [None] * steps
        for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
            if context:
                extra = {"t": start + t} if want_t else {}
                if want_lower:
                    extra["lower_c"] = None if lower is None else lower[t]
                new, gates = rec.step(xps[t], tuple(state) if cell_state else state[0], prepared, return_gates,
                                      **extra)
            else:
                new, gates = rec.step(xps[t], tuple(state) if cell_state else state[0], prepared, return_gates)
            new = list(new) if cell_state else [new]
            h = new[0]
            if masks is not None and not masks[t].all():  # finished sequences keep their state, output zero
                mask = masks[t]
                new = [where(mask, n, s) for n, s in zip(new, state)]
                h = where(mask, h, 0.0)
            outputs[t], gates_t[t], state = h, gates, new
            if recorder is not None:
                recorder.mark_step(t, h, new, gates)
            if cell_state:
                cells_t[t] = new[1]
        trace = None
        if return_gates:
            trace = {} if gates_t[0] is None else {"gates": stack(gates_t, dim=0)}  # cells without gates: none
            if cell_state:
                trace["c"] = stack(cells_t, dim=0)
        return stack(outputs, dim=0), state, trace, (cells_t if want_lower else None)

    def _step_masks(self, lengths, steps, batch):
        """(B, 1) booleans per step, true while t < lengths[b]; None when every sequence has all T steps."""
        if lengths is None:
            return None
        owner = type(self).__name__
        lengths = np.asarray(lengths.data if isinstance(lengths, Tensor) else lengths)
        if lengths.shape != (batch,):
            raise ValueError(f"{owner}: Expected lengths of shape ({batch},), got {lengths.shape}")
        if batch == 0:
            return None                      # no sequence to mask: an empty batch runs as without lengths
        if lengths.dtype.kind not in "iuf" or np.any(lengths != np.round(lengths)):
            raise ValueError(f"{owner}: lengths must be integers, but got {lengths.tolist()}")
        if lengths.min() < 1 or lengths.max() > steps:
            raise ValueError(f"{owner}: lengths must be in [1, {steps}] (the sequence length), "
                             f"but got {lengths.tolist()}")
        if (lengths == steps).all():
            return None
        return [(t < lengths)[:, None] for t in range(steps)]

    def _initial_states(self, hx, batch, batched, dtype):
        """A list per state kind (h, and c for LSTMs) of the L·D initial states, each (B, H) (h: (B, P) with a
        projection); a given hx of one layer and direction stays (1, B, H), which Scan takes and _run's step loop
        reshapes."""
        owner = type(self).__name__
        n_states = 2 if self.recurrence.has_cell_state else 1
        count = self.num_layers * (2 if self.bidirectional else 1)
        sizes = (self._output_size, self.hidden_size)[:n_states]
        if hx is None:
            zeros = {size: engine_constant(np.zeros((batch, size), _float_dtype(dtype))) for size in set(sizes)}
            return [[zeros[size]] * count for size in sizes]
        if n_states == 2:
            check_hx_tuple(owner, hx, batched)
        given = list(hx) if n_states == 2 else [hx]
        states = []
        for j, s in enumerate(given):
            shape = (count, batch, sizes[j]) if batched else (count, sizes[j])
            check_state(owner, f"hx[{j}]" if n_states == 2 else "hx", s, shape, dtype)
            if count == 1 and batched:       # one layer, one direction: (1, B, H) as given, which a Scan takes
                states.append([s])           # as it is (an Unbind before it and a Stack after: 25 % of a call at S)
            else:
                states.append(list((s if batched else s.reshape(count, 1, -1)).unbind(0)))
        return states

    @property
    def _all_weights(self):
        """torch's: per layer and direction, the names of its parameters in order (w_ih, w_hh, b_ih, b_hh, w_hr)."""
        directions = 2 if self.bidirectional else 1
        return [[name + self._suffix(layer, d) for name, p in self._weights(layer, d).items() if p is not None]
                for layer in range(self.num_layers) for d in range(directions)]

    @property
    def _flat_weights_names(self):
        return [name for names in self._all_weights for name in names]

    @property
    def _flat_weights(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        """torch's: per layer and direction, the list of its parameters in order."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self):
        """A no-op: torch packs the weights into one buffer for cuDNN; here they are separate arrays already."""
        return None

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        for name, default in (("num_layers", 1), ("bias", True), ("batch_first", False), ("dropout", 0.0),
                              ("bidirectional", False)):
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        act = getattr(self.recurrence, "act", "sigmoid")
        if act != "sigmoid" and not isinstance(self.recurrence, RNNRecurrence):
            s += f", gate_activation={act!r}"
        if not self.recurrence.fused:
            s += ", fused=False"
        if self.checkpoint_every is not None:
            s += f", checkpoint_every={self.checkpoint_every}"
        return s


class _JoinedSegments(Cat):
    """out = [y_1; y_2; …] along time, the segments' outputs already sitting in `out`; ∂y_s = its slice of g"""

    @staticmethod
    def forward(ctx, *arrays, out):
        ctx.save_for_backward(np.cumsum([a.shape[0] for a in arrays])[:-1], 0)
        return out


class RNN(RNNBase):
    """Elman RNN: h_t = act(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh), act tanh or relu."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 fused: bool = True, dtype: DTypeLike = None, proj_size: int = 0,
                 checkpoint_every: int | None = None) -> None:
        check_choice("RNN", "nonlinearity", nonlinearity, ("tanh", "relu"))
        check_no_projection("RNN", proj_size)
        super().__init__(RNNRecurrence(nonlinearity, fused), input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, dtype=dtype, checkpoint_every=checkpoint_every)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """LSTM layer (gate order i, f, g, o); returns output, (h_n, c_n). proj_size=P > 0: LSTMP (Sak et al. 2014),
    h_t = W_hr (o⊙tanh(c_t)) with weight_hr_l{k} (P, H), so h and the output have P units, c has H."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 gate_activation: str = "sigmoid", forget_bias: float | None = None, fused: bool = True,
                 dtype: DTypeLike = None, checkpoint_every: int | None = None) -> None:
        check_choice("LSTM", "gate_activation", gate_activation, GATE_ACTIVATIONS)
        recurrence = (ProjectedLSTMRecurrence if proj_size else LSTMRecurrence)(gate_activation, fused)
        super().__init__(recurrence, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         forget_bias, dtype, proj_size=proj_size, checkpoint_every=checkpoint_every)


class PeepholeLSTM(RNNBase):
    """LSTM with peepholes weight_ci_l{k}, weight_cf_l{k}, weight_co_l{k} (H,) (Gers & Schmidhuber 2000)."""

    peephole = True

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 gate_activation: str = "sigmoid", forget_bias: float | None = None, fused: bool = True,
                 dtype: DTypeLike = None, checkpoint_every: int | None = None) -> None:
        check_choice("PeepholeLSTM", "gate_activation", gate_activation, GATE_ACTIVATIONS)
        super().__init__(PeepholeLSTMRecurrence(gate_activation, fused), input_size, hidden_size, num_layers, bias,
                         batch_first, dropout, bidirectional, forget_bias, dtype, checkpoint_every=checkpoint_every)


class GRU(RNNBase):
    """GRU layer (gate order r, z, n); reset_after=True is PyTorch's form, False is Cho et al. 2014's."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 reset_after: bool = True, gate_activation: str = "sigmoid", fused: bool = True,
                 dtype: DTypeLike = None, proj_size: int = 0, checkpoint_every: int | None = None) -> None:
        check_choice("GRU", "gate_activation", gate_activation, GATE_ACTIVATIONS)
        check_no_projection("GRU", proj_size)
        recurrence = (GRURecurrence if reset_after else GRUChoRecurrence)(gate_activation, fused)
        super().__init__(recurrence, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         dtype=dtype, checkpoint_every=checkpoint_every)
        self.reset_after = bool(reset_after)


class NoOutputTanhLSTM(RNNBase):
    """LSTM layer whose output is h = o⊙c, without the tanh (nicodjimenez/lstm's tutorial cell; see
    NoOutputTanhLSTMRecurrence for why the standard LSTM has it); parameters and returns as LSTM's."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 gate_activation: str = "sigmoid", forget_bias: float | None = None, fused: bool = True,
                 dtype: DTypeLike = None, checkpoint_every: int | None = None) -> None:
        check_choice("NoOutputTanhLSTM", "gate_activation", gate_activation, GATE_ACTIVATIONS)
        super().__init__(NoOutputTanhLSTMRecurrence(gate_activation, fused), input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, forget_bias, dtype,
                         checkpoint_every=checkpoint_every)


LAYERS = {"rnn": RNN, "lstm": LSTM, "gru": GRU, "peephole": PeepholeLSTM}  # by cell name: what the commands offer
