"""What the benchmarks time: the candidates, the kernel pairs and the char-LM step, on shared weights and data.

A layer candidate is built by `make_<name>(cell, shape, dtype, rng) -> run`; each call of run() is one full forward
and backward through the sequence and returns the gradients as ndarrays: "x", "h0" (and "c0" for the LSTMs) and
the weights under PyTorch's names without the layer suffix ({"weight_ih": ..., "weight_hh": ..., ...}). Every
candidate does the same work: the loss is L = Σ_t y_t ⊙ dy_t for a fixed random dy (a loss on every h_t), from a
random initial state (h0, c0), and the gradients of x, h0, c0 and every weight are asked for (the hand oracle always
computes them all, so every candidate does). Weights and data come from `problem(cell, shape, dtype, rng)`: an rng in the same state gives every candidate the same
numbers. A candidate that cannot run here (torch missing, no peephole LSTM in torch, Cython kernels not built) raises
Unavailable. Used by `python -m tinygrad_rnn bench` (apps/bench.py) and by benchmarks/ (pytest-benchmark).
"""
import contextlib
import os
import platform
import tracemalloc
from types import SimpleNamespace

import numpy as np

from .. import nn, optim, oracle
from ..backend import numpy_twins, use_backend
from ..fused import sequence, workspace
from ..tensor import Tensor

SHAPES = {"S": (1, 32, 32, 100), "M": (16, 64, 128, 50), "L": (64, 256, 512, 25), "XL": (8, 512, 1024, 20)}  # B I H T
CELLS = ("lstm", "gru", "peephole", "rnn")
DTYPES = ("float32", "float64")
CANDIDATES = ("engine", "engine-loop", "engine-numpy", "unfused", "oracle", "torch", "torch-cell")
TORCH_CANDIDATES = ("torch", "torch-cell")
GATES = {"lstm": 4, "gru": 3, "peephole": 4, "rnn": 1}
CELL_STATE = ("lstm", "peephole")  # the cells with a memory cell c: they also get c0 and return its gradient
SEED = 0


class Unavailable(Exception):
    """This candidate cannot run here; the message says why."""


def dims(shape):
    """(B, I, H, T) of a shape name in SHAPES, or of a (B, I, H, T) tuple (the tests use tiny ones)."""
    return SHAPES[shape] if isinstance(shape, str) else tuple(shape)


def gemm_flops(cell, shape):
    """GEMM flops of forward + backward: forward 2·T·B·G·H·(I+H); backward twice that (∂input and ∂weight)."""
    B, I, H, T = dims(shape)
    return 3 * 2 * T * B * GATES[cell] * H * (I + H)


# ---- the shared problem -------------------------------------------------------------------------------------

def engine_layer(cell, input_size, hidden_size, dtype, fused=True):
    layer = {"lstm": nn.LSTM, "gru": nn.GRU, "peephole": nn.PeepholeLSTM, "rnn": nn.RNN}[cell]
    return layer(input_size, hidden_size, fused=fused, dtype=np.dtype(dtype))


def problem(cell, shape, dtype, rng):
    """Weights (the engine layer's state_dict, U(±1/√H) from rng), x (T, B, I), dy (T, B, H) and the initial state
    h0, c0 (B, H) from rng (c0 is drawn for every cell, so the draws do not depend on the cell)."""
    if cell not in GATES:
        raise ValueError(f"cell: expected one of {', '.join(GATES)}, but got {cell!r}")
    B, I, H, T = dims(shape)
    dtype = np.dtype(dtype)
    bound = 1 / np.sqrt(H)
    names = engine_layer(cell, I, H, dtype).state_dict()
    weights = {name: rng.uniform(-bound, bound, value.shape).astype(dtype) for name, value in names.items()}
    x = rng.standard_normal((T, B, I)).astype(dtype)
    dy = rng.standard_normal((T, B, H)).astype(dtype)
    h0, c0 = (rng.uniform(-0.5, 0.5, (B, H)).astype(dtype) for _ in range(2))
    return SimpleNamespace(cell=cell, B=B, I=I, H=H, T=T, dtype=dtype, state_dict=weights, x=x, dy=dy, h0=h0,
                           c0=c0 if cell in CELL_STATE else None)


def _strip(name):
    """weight_hh_l0 -> weight_hh"""
    return name[:-len("_l0")] if name.endswith("_l0") else name


def _need_cython():
    try:
        from ..backend._kernels import gates, linear, steps  # noqa: F401
    except ImportError as err:
        raise Unavailable(f"the Cython kernels are not built ({err})") from None


# ---- the candidates -----------------------------------------------------------------------------------------

def _initial_state(p, make):
    """{"h0": ..., "c0": ...} (c0 only for the LSTMs), each made by make(array)."""
    return {name: make(a) for name, a in (("h0", p.h0), ("c0", p.c0)) if a is not None}


def _engine(p, backend, fused, loop=False):
    layer = engine_layer(p.cell, p.I, p.H, p.dtype, fused)
    layer.load_state_dict(p.state_dict)
    params = [(_strip(name), w) for name, w in layer.named_parameters()]
    inputs = {"x": Tensor(p.x, requires_grad=True),
              **_initial_state(p, lambda a: Tensor(a[None], requires_grad=True))}   # (1, B, H): one layer
    state = (inputs["h0"], inputs["c0"]) if p.c0 is not None else inputs["h0"]

    def run():
        with use_backend(backend), (sequence.reference_loop() if loop else contextlib.nullcontext()):
            for t in inputs.values():
                t.grad = None
            for _, w in params:
                w.grad = None
            out, _ = layer(inputs["x"], state)
            out.backward(p.dy)
        return {**{name: t.grad.reshape(getattr(p, name).shape) for name, t in inputs.items()},
                **{name: w.grad for name, w in params}}
    return run


def make_engine(cell, shape, dtype, rng):
    """The tape engine, fused steps, Cython kernels."""
    _need_cython()
    return _engine(problem(cell, shape, dtype, rng), "cython", fused=True)


def make_engine_loop(cell, shape, dtype, rng):
    """The tape engine, fused steps, Cython kernels, the loop over time in Python (Scan's reference path: one step
    kernel call per step) instead of one sequence kernel call per direction."""
    _need_cython()
    return _engine(problem(cell, shape, dtype, rng), "cython", fused=True, loop=True)


def make_engine_numpy(cell, shape, dtype, rng):
    """The tape engine, fused steps, the kernels' NumPy twins (TINYGRAD_RNN_BACKEND=numpy)."""
    return _engine(problem(cell, shape, dtype, rng), "numpy", fused=True)


def make_unfused(cell, shape, dtype, rng):
    """The tape engine, each step recorded as primitive ops (fused=False: no kernel is called)."""
    return _engine(problem(cell, shape, dtype, rng), "numpy", fused=False)


def make_oracle(cell, shape, dtype, rng):
    """The hand-derived batched NumPy BPTT (tinygrad_rnn.oracle)."""
    p = problem(cell, shape, dtype, rng)
    params = {_strip(name): w for name, w in p.state_dict.items()}

    def run():
        *_, cache = oracle.forward(cell, p.x, p.h0, params, c0=p.c0)
        return oracle.backward(cache, dy=p.dy)
    return run


def _torch(cell):
    try:
        import torch
    except ImportError:
        raise Unavailable("torch is not installed") from None
    if cell == "peephole":
        raise Unavailable("torch has no peephole LSTM")
    return torch


def _torch_run(torch, p, module, forward):
    """run() for a torch module whose forward(x, h0, c0 or None) -> (T, B, H); weights from p's state_dict."""
    weights = {_strip(name): w for name, w in p.state_dict.items()}
    module.load_state_dict({name: torch.from_numpy(weights[_strip(name)]) for name, _ in module.named_parameters()})
    params = [(_strip(name), w) for name, w in module.named_parameters()]
    inputs = {"x": torch.from_numpy(p.x).requires_grad_(),
              **_initial_state(p, lambda a: torch.from_numpy(a).requires_grad_())}
    dy = torch.from_numpy(p.dy)

    def run():
        for t in inputs.values():
            t.grad = None
        for _, w in params:
            w.grad = None
        forward(inputs["x"], inputs["h0"], inputs.get("c0")).backward(dy)
        return {**{name: t.grad.numpy() for name, t in inputs.items()}, **{name: w.grad.numpy() for name, w in params}}
    return run


def make_torch(cell, shape, dtype, rng):
    """torch.nn.LSTM / GRU / RNN (on CPU: fused oneDNN LSTM in float32, the autograd tape otherwise)."""
    torch = _torch(cell)
    p = problem(cell, shape, dtype, rng)
    layer = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell]
    module = layer(p.I, p.H, dtype=getattr(torch, p.dtype.name))

    def forward(x, h0, c0):
        return module(x, (h0[None], c0[None]) if cell == "lstm" else h0[None])[0]
    return _torch_run(torch, p, module, forward)


def make_torch_cell(cell, shape, dtype, rng):
    """A Python loop over torch.nn.LSTMCell / GRUCell / RNNCell: PyTorch's autograd tape, one step at a time."""
    torch = _torch(cell)
    p = problem(cell, shape, dtype, rng)
    layer = {"lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell, "rnn": torch.nn.RNNCell}[cell]
    module = layer(p.I, p.H, dtype=getattr(torch, p.dtype.name))

    def forward(x, h0, c0):
        state, outputs = ((h0, c0) if cell == "lstm" else h0), []
        for x_t in x.unbind(0):
            state = module(x_t, state)
            outputs.append(state[0] if cell == "lstm" else state)
        return torch.stack(outputs)
    return _torch_run(torch, p, module, forward)


MAKERS = {"engine": make_engine, "engine-loop": make_engine_loop, "engine-numpy": make_engine_numpy,
          "unfused": make_unfused, "oracle": make_oracle, "torch": make_torch, "torch-cell": make_torch_cell}


def make(candidate, cell, shape, dtype, rng):
    return MAKERS[candidate](cell, shape, dtype, rng)


# ---- kernels against the NumPy op chains they replace ---------------------------------------------------------

KERNELS = ("linear_act_forward", "linear_act_backward", "lstm_step_forward", "lstm_step_backward",
           "gru_step_forward", "gru_step_backward", "peephole_step_forward", "peephole_step_backward")
KERNEL_IMPLS = ("cython", "numpy")


def kernel_args(name, dtype, rng, shape="S"):
    """The arguments of one kernel call at one time step of `shape`: linear_act is act(x_t W_ihᵀ + b), act tanh
    (an RNN step, B × I by I × H); the step kernels are the recurrent GEMM plus gates, sigmoid gates."""
    B, I, H, T = dims(shape)
    dtype = np.dtype(dtype)
    r = lambda *s: rng.uniform(-1, 1, s).astype(dtype)  # noqa: E731
    if name.startswith("linear_act"):
        x, w, b = r(B, I), r(H, I), r(H)
        y = np.empty((B, H), dtype)
        numpy_twins.linear_act_forward(x, w, b, "tanh", y)
        if name == "linear_act_forward":
            return x, w, b, "tanh", y
        return x, w, y, r(B, H), "tanh", np.empty((B, I), dtype), np.empty((H, I), dtype), np.empty(H, dtype)
    cell = name.split("_")[0]
    G = GATES["peephole" if cell == "peephole" else cell]
    xp, h_prev, c_prev, w_hh, dh, dc = r(B, G * H), r(B, H), r(B, H), r(G * H, H) / H ** 0.5, r(B, H), r(B, H)
    peep = (r(H), r(H), r(H)) if cell == "peephole" else ()
    if cell == "gru":
        b_hh = r(G * H)
        if name.endswith("forward"):
            return xp, h_prev, w_hh, b_hh, "sigmoid"
        hp, gates, _ = numpy_twins.gru_step_forward(xp, h_prev, w_hh, b_hh, "sigmoid")
        return gates, hp, h_prev, w_hh, dh, "sigmoid"
    forward = getattr(numpy_twins, f"{cell}_step_forward")
    if name.endswith("forward"):
        return (xp, h_prev, c_prev, w_hh, *peep, "sigmoid")
    gates, c, _ = forward(xp, h_prev, c_prev, w_hh, *peep, "sigmoid")
    return (gates, c_prev, c, w_hh, *peep, dh, dc, "sigmoid")


def make_kernel(name, impl, dtype, rng, shape="S"):
    """run() calling kernel `name` itself ("cython") or its NumPy twin ("numpy": the op chain the kernel replaces);
    both have the same signature and get the same arguments, with no _backend checks in between. The step kernels
    return their outputs; the linear_act ones write into arrays among their arguments, which are run.outputs."""
    if impl == "cython":
        _need_cython()
        from ..backend._kernels import linear, steps
        module = linear if name.startswith("linear_act") else steps
    else:
        module = numpy_twins if name.startswith("linear_act") else numpy_twins
    fn, args = getattr(module, name), kernel_args(name, dtype, rng, shape)

    def run():
        return fn(*args)
    run.outputs = args[-(1 if name == "linear_act_forward" else 3):] if name.startswith("linear_act") else None
    return run


# ---- the recurrent products: the sequence kernels' micro-kernel against BLAS --------------------------------------

# name: (M, K, N) of C = A @ B, the products a sequence kernel does per step (B = W_hhᵀ forward, W_hh backward)
PRODUCTS = {"S h@W_hhT": (1, 32, 128), "S dz@W_hh": (1, 128, 32), "M h@W_hhT": (16, 128, 512),
            "M dz@W_hh": (16, 512, 128), "L h@W_hhT": (64, 512, 2048), "L dz@W_hh": (64, 2048, 512)}
PRODUCT_IMPLS = ("skinny", "blas")
PRODUCT_REPEAT = 20            # products per timed call, on one packing (the kernel packs W once per sequence)


def product_flops(name):
    M, K, N = PRODUCTS[name]
    return 2 * M * K * N


def make_product(name, impl, dtype, rng):
    """run() doing PRODUCT_REPEAT products of shape PRODUCTS[name]: through the packed micro-kernel of the sequence
    kernels (skinny.h, the build this CPU runs; W packed once per call, as once per sequence) or through NumPy's
    BLAS (np.matmul), both into the same kind of output. run.outputs: the product, for the tests."""
    M, K, N = PRODUCTS[name]
    dtype = np.dtype(dtype)
    a, b = rng.standard_normal((M, K)).astype(dtype), rng.standard_normal((K, N)).astype(dtype)
    c = np.empty((M, N), dtype)
    if impl == "skinny":
        _need_cython()
        from ..backend._kernels import sequence as kernels

        def run():
            kernels.skinny_gemm(a, b, c, repeat=PRODUCT_REPEAT)
    else:
        def run():
            for _ in range(PRODUCT_REPEAT):
                np.matmul(a, b, out=c)
    run.outputs, run.expected = c, a @ b
    return run


# ---- one char-LM training step ----------------------------------------------------------------------------------

CHARLM = SimpleNamespace(vocab=65, embed=64, hidden=128, layers=2, batch=16, seq=50)
CHARLM_CANDIDATES = ("engine", "torch")


class CharLM(nn.Module):
    """Embedding(65, 64) -> 2-layer LSTM(64, 128) -> Linear(128, 65): the char-level language model of issue 5."""

    def __init__(self, dtype):
        super().__init__()
        c = CHARLM
        self.embed = nn.Embedding(c.vocab, c.embed, dtype=dtype)
        self.lstm = nn.LSTM(c.embed, c.hidden, num_layers=c.layers, dtype=dtype)
        self.head = nn.Linear(c.hidden, c.vocab, dtype=dtype)


def _charlm_problem(dtype, rng):
    dtype = np.dtype(dtype)
    names = CharLM(dtype).state_dict()
    weights = {n: (rng.standard_normal(v.shape) if n == "embed.weight" else
                   rng.uniform(-1, 1, v.shape) / np.sqrt(v.shape[-1])).astype(dtype) for n, v in names.items()}
    tokens = rng.integers(0, CHARLM.vocab, (CHARLM.seq + 1, CHARLM.batch))
    return dtype, weights, tokens[:-1], tokens[1:].reshape(-1)


def make_charlm(candidate, dtype, rng):
    """run() doing one training step (zero_grad, forward, cross-entropy, backward, Adam step) -> the loss."""
    dtype, weights, inputs, targets = _charlm_problem(dtype, rng)
    if candidate == "engine":
        _need_cython()
        model = CharLM(dtype)
        model.load_state_dict(weights)
        opt = optim.Adam(model.parameters(), lr=1e-3)

        def run():
            with use_backend("cython"):
                opt.zero_grad()
                out, _ = model.lstm(model.embed(inputs))
                logits = model.head(out)
                loss = nn.functional.cross_entropy(logits.reshape(-1, CHARLM.vocab), targets)
                loss.backward()
                opt.step()
            return loss.item()
        return run
    torch = _torch("lstm")
    c = CHARLM
    model = torch.nn.ModuleDict({"embed": torch.nn.Embedding(c.vocab, c.embed),           # CharLM's names, in torch
                                 "lstm": torch.nn.LSTM(c.embed, c.hidden, num_layers=c.layers),
                                 "head": torch.nn.Linear(c.hidden, c.vocab)}).to(getattr(torch, dtype.name))
    model.load_state_dict({n: torch.from_numpy(w) for n, w in weights.items()})
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    inputs, targets = torch.from_numpy(inputs), torch.from_numpy(targets)

    def run():
        opt.zero_grad()
        out, _ = model["lstm"](model["embed"](inputs))
        loss = torch.nn.functional.cross_entropy(model["head"](out).reshape(-1, c.vocab), targets)
        loss.backward()
        opt.step()
        return loss.item()
    return run


# ---- measuring ------------------------------------------------------------------------------------------------

def peak_memory(run):
    """Peak bytes allocated during one call of run(), as tracemalloc sees them (Python objects and NumPy buffers;
    not torch's allocator). The engine's workspace is emptied first, so the arrays it would hand out again are
    allocated, and counted, in this call."""
    workspace.clear()
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        result = run()
        peak = tracemalloc.get_traced_memory()[1] - base
        del result
    finally:
        if not tracing:
            tracemalloc.stop()
    return peak


@contextlib.contextmanager
def pin_threads(n):
    """BLAS/OpenMP pools limited to n threads (threadpoolctl) and torch.set_num_threads(n) for the block; yields a
    note (a str) when threadpoolctl is missing and the BLAS threads could not be pinned, else None."""
    note, limits = None, contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
        limits = threadpool_limits(limits=n)
    except ImportError:
        note = (f"threadpoolctl is not installed: BLAS threads are NOT pinned to {n} "
                "(pip install threadpoolctl, or set OMP_NUM_THREADS / OPENBLAS_NUM_THREADS before starting)")
    torch, saved = None, None
    try:
        import torch
        saved = torch.get_num_threads()
        torch.set_num_threads(n)
    except ImportError:
        pass
    try:
        with limits:
            yield note
    finally:
        if torch is not None:
            torch.set_num_threads(saved)


def blas_info():
    """One line per BLAS library loaded in this process (threadpoolctl), or a note that it cannot tell."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return ["unknown (threadpoolctl is not installed)"]
    # the architecture: the kernels OpenBLAS chose (OPENBLAS_CORETYPE=Haswell on an AVX-512 CPU halves its GEMMs)
    lines = [f"{d.get('internal_api')} {d.get('version')} ({d.get('architecture') or '?'} kernels, "
             f"{d.get('threading_layer', '?')} threading, {d.get('num_threads')} threads, "
             f"{_short_path(d.get('filepath', ''))})" for d in threadpool_info() if d.get("user_api") == "blas"]
    return lines or ["none found by threadpoolctl"]


def _short_path(path):
    """site-packages/numpy.libs/libscipy_openblas64_.so -> numpy.libs/libscipy_openblas64_.so: says whose copy."""
    return os.path.join(os.path.basename(os.path.dirname(path)), os.path.basename(path))


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


THREAD_ENVIRONMENT = ("OMP_", "GOMP_", "KMP_", "OPENBLAS_", "MKL_", "TINYGRAD_RNN_")  # what changes the timings


def cpu_affinity():
    """The CPUs this process may run on, and a warning when that is fewer than the machine has: OMP_PROC_BIND (or
    taskset) binds the main thread, and every thread it starts later inherits the binding, so a BLAS or OpenMP
    pool's threads may all share one core."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None
    text = "CPUs " + ",".join(map(str, cpus))
    if len(cpus) < (os.cpu_count() or len(cpus)):
        text += f" of {os.cpu_count()}: bound (OMP_PROC_BIND or taskset), threads started from here share them"
    return text


def machine_info():
    """{platform, cpu, cores, python, numpy, torch, blas: [...], affinity, environment} of this process."""
    try:
        import torch
        torch_version = torch.__version__
    except ImportError:
        torch_version = "not installed"
    environment = " ".join(f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith(THREAD_ENVIRONMENT))
    return {"platform": platform.platform(), "cpu": cpu_model(), "cores": os.cpu_count(),
            "python": platform.python_version(), "numpy": np.__version__, "torch": torch_version,
            "blas": blas_info(), "affinity": cpu_affinity(), "environment": environment or "none of " +
            ", ".join(f"{p}*" for p in THREAD_ENVIRONMENT) + " set"}
