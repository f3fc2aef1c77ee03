"""Scan: a whole recurrent loop as one tape node whose backward runs the step's own backward in reverse.

A layer can record its loop over time step by step (one node per step: the picture the tutorial draws, where hooks
and graph views see every h_t) or as one Scan node, the loop primitive JAX calls lax.scan. Scan stores the same
per-step contexts the step nodes would, and its backward applies the same per-step backward rules in reverse time
order: backpropagation through time is still the chain rule over the recorded steps, derived by nobody. What it
saves is the generic tape's bookkeeping per step (Tensor objects, dict lookups, topological counts), which at small
sizes costs more than the step's arithmetic.

    ys, *carry_T = Scan.apply(xs, *carry_0, *consts, step=LSTMStep, n_carry=2, reverse=False, masks=None, options={})

xs (T, B, ·) holds the per-step inputs (the hoisted input projection); the carry (h, or h and c) flows from step to
step; consts (recurrent weights) are shared by every step, and their per-step gradients are summed (OuterSum
factors from the fused steps become one GEMM). ys[t] is the carry's first element after step t. masks (T, B, 1)
booleans freeze the carry and zero ys where a sequence has ended (variable lengths). options={"return_gates": True}
adds the per-step trace after the final carry (sequence.trace_names(step): an LSTM's gates and c_t, a GRU's gates),
only where a sequence kernel runs the Scan (sequence.runs_kernel); a layer records step by step otherwise.

For the steps that have a sequence kernel (RNN, LSTM, peephole LSTM, both GRUs) the same loop runs in one kernel
call each way (sequence.py); the loop below is the reference path for the others, and for those inside
`sequence.reference_loop()` or `detect_anomaly()`.
"""
import numpy as np

from .. import anomaly, autograd
from ..function import Function
from . import sequence, workspace
from .outer_sum import OuterSum, StepFactors


class Scan(Function):
    """ys[t], carry = step(xs[t], carry, consts) for t in order; ∂ by step.backward for t in reverse order"""

    @staticmethod
    def forward(ctx, xs, *rest, step, n_carry, reverse=False, masks=None, options=None):
        # A carry may come as (1, B, H), a one-layer layer's h0 as the caller gave it: the steps see (B, H) views,
        # and the final carry goes back in the shape it came in (no Unbind and Stack nodes around the Scan), as a
        # copy, as the Stack made one: a view would keep the whole (T + 1, B, H) block alive in a loop that carries
        # h_n on (truncated BPTT), and the workspace could not hand that block out again.
        shapes = [c.shape for c in rest[:n_carry]]
        if any(len(shape) == 3 for shape in shapes):
            if any(len(shape) == 3 and shape[0] != 1 for shape in shapes):
                raise ValueError(f"Scan: expected each carry of shape (B, H) or (1, B, H), but got {shapes}")
            ctx.carry_shapes = shapes
            rest = tuple(c.reshape(c.shape[1:]) if i < n_carry and c.ndim == 3 else c for i, c in enumerate(rest))
            out = Scan._forward(ctx, xs, rest, step, n_carry, reverse, masks, options)
            return (out[0], *[c.reshape(shape).copy() for c, shape in zip(out[1:], shapes)], *out[1 + n_carry:])
        return Scan._forward(ctx, xs, rest, step, n_carry, reverse, masks, options)

    @staticmethod
    def backward(ctx, grads):
        shapes = getattr(ctx, "carry_shapes", None)
        if shapes is None:
            return Scan._backward(ctx, grads)
        n = len(shapes)
        grads = (grads[0], *[None if g is None else g.reshape(g.shape[-2:]) for g in grads[1:1 + n]], *grads[1 + n:])
        out = Scan._backward(ctx, grads)
        return (out[0], *[None if d is None else d.reshape(shape) for d, shape in zip(out[1:1 + n], shapes)],
                *out[1 + n:])

    @staticmethod
    def _forward(ctx, xs, rest, step, n_carry, reverse, masks, options):
        options = options or {}
        carry, consts = list(rest[:n_carry]), rest[n_carry:]
        driver = sequence.driver_for(step, xs, carry, options)
        if driver is not None:
            return sequence.forward(ctx, driver, xs, carry, consts, reverse, masks, options)
        if options.get("return_gates"):
            raise RuntimeError(f"Scan: return_gates needs a sequence kernel for {step.__name__} (here its Python loop "
                               f"runs, which keeps no trace); record the steps one by one instead")
        steps = xs.shape[0]
        ys = workspace.empty((steps,) + carry[0].shape, carry[0].dtype)
        order = range(steps - 1, -1, -1) if reverse else range(steps)
        needs = (True,) * (1 + len(rest))                  # the steps compute every gradient; Scan drops unused
        contexts = [None] * steps
        # A step that declares its outputs' widths (in units of H) writes them into per-sequence blocks, arrays
        # the workspace hands out again on the next call once nothing holds them: no fresh pages every call. Not
        # for blocks too small for the workspace to keep: there a view per output and step costs more than the
        # small arrays the kernel would allocate, which malloc serves warm.
        widths = getattr(step, "out_widths", ())
        blocks = []
        if widths and steps * carry[0].nbytes * max(widths) >= workspace.MIN_BYTES:
            blocks = [workspace.empty((steps,) + carry[0].shape[:-1] + (w * carry[0].shape[-1],), carry[0].dtype)
                      for w in widths]
        for t in order:
            sctx = step()
            sctx.needs_input_grad, sctx.saved = needs, ()
            if blocks:
                out = step.forward(sctx, xs[t], *carry, *consts, outs=tuple([block[t] for block in blocks]), **options)
            else:
                out = step.forward(sctx, xs[t], *carry, *consts, **options)
            new = list(out) if type(out) is tuple else [out]
            if masks is not None:
                keep = masks[t]
                new = [np.where(keep, n, c) for n, c in zip(new, carry)]
                ys[t] = np.where(keep, new[0], 0)
            else:
                ys[t] = new[0]
            contexts[t] = sctx
            carry = new
        # rest (the initial carry and consts) and the final carry are saved by the step contexts; listed here for
        # inplace.guards, which protects what a node saved
        ctx.save_for_backward(step, contexts, order, masks, n_carry, len(consts), xs.shape, xs.dtype, *rest, *carry)
        return (ys, *carry)

    @staticmethod
    def _backward(ctx, grads):
        if isinstance(ctx.saved[0], sequence.Driver):
            return sequence.backward(ctx, grads)
        step, contexts, order, masks, n_carry, n_consts, xs_shape, xs_dtype = ctx.saved[:8]
        dys, dcarry = grads[0], list(grads[1:])
        dxs = workspace.empty(xs_shape, xs_dtype)           # each step's backward writes its input gradient in place
        dconsts = [None] * n_consts
        check, keep_contexts = anomaly.state.enabled, autograd.state.retaining
        for t in reversed(order):
            d_out = list(dcarry)
            if dys is not None:
                d_out[0] = dys[t] if d_out[0] is None else d_out[0] + dys[t]
            passed = None
            if masks is not None:                      # frozen rows: the gradient skips the step entirely
                keep = masks[t]
                passed = [None if d is None else np.where(keep, 0, d) for d in dcarry]
                d_out = [None if d is None else np.where(keep, d, 0) for d in d_out]
            dx_t = dxs[t]
            g = step.backward(contexts[t], tuple(d_out) if n_carry > 1 else d_out[0], dx_t)
            if check:                                      # name the step's op and time, not just "Scan"
                anomaly.check_backward(step.__name__, g, getattr(ctx, "trace", None), f" at time step {t} of a Scan")
            if not keep_contexts:                          # (retain_graph=True: a later backward needs them)
                contexts[t] = None                         # its saved arrays can go now
            if g[0] is not dx_t:                           # a step that allocated its own (or gave none)
                dxs[t] = 0 if g[0] is None else g[0]
            dcarry = list(g[1:1 + n_carry])
            if passed is not None:
                dcarry = [d if p is None else (p if d is None else d + p) for d, p in zip(dcarry, passed)]
            for k, gk in enumerate(g[1 + n_carry:]):
                if type(gk) is OuterSum and len(gk.lefts) == 1 and gk.dense is None:
                    if dconsts[k] is None:
                        dconsts[k] = StepFactors(len(order))
                    dconsts[k].add(t, gk.lefts[0], gk.rights[0], gk.lefts[0] is g[0])
                elif gk is not None:                       # a dense per-step gradient (peephole weights, b_hh)
                    dconsts[k] = gk if dconsts[k] is None else dconsts[k] + gk
        dconsts = [d.outer_sum(dxs) if type(d) is StepFactors else d for d in dconsts]
        return (dxs, *dcarry, *dconsts)
