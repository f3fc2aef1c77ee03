"""The speed layer's ops: one tape node where the core would record many.

linear.py    act(x @ Wᵀ + b) as one node (`linear`, the op behind nn.Linear and the layers' input projection)
steps.py     one recurrent time step as one node (RNN, LSTM, peephole LSTM, both GRUs)
projected.py the LSTM step with a projection of h (LSTMP, torch.nn.LSTM(proj_size=)) as one node
scan.py      a whole loop over time as one node, whose backward runs the steps' own backwards in reverse
outer_sum.py a shared weight's gradient kept as per-step factors and reduced in one GEMM
workspace.py large per-call arrays handed out again, call after call

Everything here runs through the kernel boundary (`tinygrad_rnn.backend.calls`); the core (tensor, function, ops,
autograd) does not import this package, and `fused=False` layers do not need it.
"""
from .linear import LinearAct, linear, projection
from .outer_sum import OuterSum
from .projected import ProjectedLSTMStep
from .scan import Scan
from .sequence import runs_kernel, trace_names
from .steps import GRUChoStep, GRUStep, LSTMStep, PeepholeLSTMStep, RNNStep, transposed_copy

__all__ = ["GRUChoStep", "GRUStep", "LSTMStep", "LinearAct", "OuterSum", "PeepholeLSTMStep", "ProjectedLSTMStep",
           "RNNStep", "Scan", "linear", "projection", "runs_kernel", "trace_names", "transposed_copy"]
