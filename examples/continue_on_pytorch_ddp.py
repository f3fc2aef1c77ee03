"""Continue a tinygrad_rnn character model on PyTorch, with DistributedDataParallel, and hand it back.

    python -m tinygrad_rnn train --text corpus.txt --steps 500            # writes char_lm.safetensors
    torchrun --standalone --nproc_per_node 2 examples/continue_on_pytorch_ddp.py char_lm.safetensors \
        --text corpus.txt --steps 200 --out char_lm_torch.safetensors

Needs only torch and safetensors (`pip install torch safetensors`): the checkpoint is a safetensors file whose
tensors are the model's state_dict under PyTorch's names, so `safetensors.torch.load_file` and `load_state_dict`
take it as it is; the model's config and vocabulary are JSON in its metadata, and the Adam moments in the training
state file beside it, which this script loads too, so training goes on where the engine stopped. Each process
(gloo backend, CPU) trains on its own rows of the batch; DDP averages the gradients, so every rank holds the same
weights after every step. Rank 0 writes the result with `safetensors.torch.save_file`; back in the engine:

    import tinygrad_rnn as tg
    from tinygrad_rnn.apps.charlm import CharLM
    model = CharLM(vocab_size, hidden=..., layers=..., cell=...)
    model.load_state_dict(tg.load("char_lm_torch.safetensors"))

--report DIR writes, per rank, what tests/apps/test_ddp_handoff.py checks against the engine: the rank's first
batch and loss, the final weights' digest, and the final model's logits on a probe window.
"""
import argparse
import hashlib
import json
import math
import os

import numpy as np
import torch
import torch.distributed as dist
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch.nn.parallel import DistributedDataParallel

CELLS = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}   # the peephole LSTM has no torch twin


class CharLM(torch.nn.Module):
    """tinygrad_rnn.apps.charlm.CharLM in torch.nn: the same modules under the same names."""

    def __init__(self, vocab_size, hidden, layers, cell, dropout, embedding, dtype):
        super().__init__()
        self.embedding = torch.nn.Embedding(vocab_size, embedding, dtype=dtype)
        self.rnn = CELLS[cell](embedding, hidden, num_layers=layers, dropout=dropout if layers > 1 else 0.0,
                               dtype=dtype)
        self.drop = torch.nn.Dropout(dropout)
        self.decoder = torch.nn.Linear(hidden, vocab_size, dtype=dtype)

    def forward(self, chars, state=None):
        out, state = self.rnn(self.embedding(chars), state)
        return self.decoder(self.drop(out)), state


def tuples(obj):
    """The checkpoint's JSON tags tuples (Adam's betas) as {"__tuple__": [...]}: back to tuples."""
    return tuple(obj["__tuple__"]) if set(obj) == {"__tuple__"} else obj


def read_checkpoint(path):
    """(config, vocab, weights, optimizer state dict or None) of a tinygrad_rnn checkpoint, with safetensors only."""
    with safe_open(path, framework="pt") as f:
        meta = json.loads(f.metadata()["tinygrad_rnn.checkpoint"], object_hook=tuples)
    weights = load_file(path)
    optimizer = None
    if meta["optim"] is not None and meta["state_file"] is not None:
        state = load_file(os.path.join(os.path.dirname(os.path.abspath(path)), meta["state_file"]["name"]))
        optimizer = {"state": {}, "param_groups": meta["optim"]["param_groups"]}
        for index, entry in meta["optim"]["state"].items():      # {"step": int, "exp_avg": {"__array__": name}}
            optimizer["state"][int(index)] = {
                key: state[value["__array__"]] if isinstance(value, dict) else torch.tensor(float(value))
                for key, value in entry.items()}
    return meta["config"], meta["vocab"], weights, optimizer


def windows(ids, batch, seq_len, step):
    """The engine's batches (apps/data.py streams and windows): `batch` contiguous rows, window `step` of each."""
    n = len(ids) // batch
    rows = ids[: n * batch].reshape(batch, n)
    cols = (step * seq_len + np.arange(seq_len + 1)) % n
    chunk = rows[:, cols].T
    return chunk[:-1], chunk[1:]


def detach(state):
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def digest(state_dict):
    h = hashlib.sha256()
    for name, tensor in state_dict.items():
        h.update(name.encode())
        h.update(tensor.detach().contiguous().numpy().tobytes())
    return h.hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="a checkpoint written by `python -m tinygrad_rnn train`")
    parser.add_argument("--text", required=True, help="the corpus (UTF-8), in the checkpoint's vocabulary")
    parser.add_argument("--steps", type=int, default=100, help="optimiser steps (default 100)")
    parser.add_argument("--lr", type=float, help="learning rate (default: the checkpoint's)")
    parser.add_argument("--out", default="char_lm_torch.safetensors", help="where rank 0 writes the weights")
    parser.add_argument("--report", help="a directory for each rank's report (tests)")
    args = parser.parse_args()

    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)                                   # dropout's masks: the same on every run
    config, vocab, weights, optimizer_state = read_checkpoint(args.checkpoint)
    if config["cell"] not in CELLS:
        raise SystemExit(f"{args.checkpoint}: cell {config['cell']!r} has no torch.nn layer (peephole LSTM)")
    dtype = getattr(torch, config["dtype"])
    batch, seq_len = config["batch"], config["seq_len"]
    if batch % world:
        raise SystemExit(f"the checkpoint's batch {batch} does not split over {world} processes")
    model = CharLM(len(vocab), config["hidden"], config["layers"], config["cell"], config["dropout"],
                   config.get("embedding", min(config["hidden"], 64)), dtype)
    model.load_state_dict(weights, strict=True)
    ddp = DistributedDataParallel(model)
    optimizer = torch.optim.Adam(ddp.parameters(), lr=3e-3)
    if optimizer_state is not None and config.get("optimizer", "adam") == "adam":
        optimizer.load_state_dict(optimizer_state)         # the engine's Adam moments and step counts
    if args.lr is not None:
        for group in optimizer.param_groups:
            group["lr"] = args.lr

    with open(args.text, encoding="utf-8") as f:
        text = f.read()
    index = {c: i for i, c in enumerate(vocab)}
    ids = np.array([index[c] for c in text[: int(len(text) * 0.9)]])     # the engine's training split
    mine = slice(rank * batch // world, (rank + 1) * batch // world)     # this rank's rows of every batch
    state, report = None, {"rank": rank, "world_size": world}
    for step in range(args.steps):
        inputs, targets = (torch.from_numpy(a[:, mine].copy()) for a in windows(ids, batch, seq_len, step))
        logits, state = ddp(inputs, state)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, len(vocab)), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()                                    # DDP all-reduces (averages) the gradients here
        torch.nn.utils.clip_grad_norm_(ddp.parameters(), config.get("clip", 5.0))
        optimizer.step()
        state = detach(state)
        mean = loss.detach().clone()
        dist.all_reduce(mean)
        mean = mean.item() / world
        if step == 0:
            report.update(first_inputs=inputs.tolist(), first_targets=targets.tolist(), first_loss=loss.item(),
                          first_mean_loss=mean)
        if rank == 0 and (step % 20 == 0 or step == args.steps - 1):
            print(f"step {step + 1}/{args.steps}: loss {mean:.4f} ({mean / math.log(2):.3f} bits per character)",
                  flush=True)

    final = model.state_dict()
    probe = torch.from_numpy(windows(ids, batch, seq_len, 0)[0].copy())
    with torch.no_grad():
        model.eval()
        probe_logits = model(probe)[0]
    report.update(weights_sha256=digest(final), probe_inputs=probe.tolist(), probe_logits=probe_logits.tolist())
    if rank == 0:
        tmp = f"{args.out}.{os.getpid()}.tmp"
        save_file({k: v.contiguous() for k, v in final.items()}, tmp,
                  metadata={"format": "pt", "config": json.dumps(config), "vocab": vocab})
        os.replace(tmp, args.out)                          # atomically: a crash leaves no half file at --out
        print(f"weights written to {args.out}", flush=True)
    if args.report:
        with open(os.path.join(args.report, f"rank{rank}.json"), "w") as f:
            json.dump(report, f)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
