"""A padded bidirectional LSTM tagger, written for PyTorch: pack_padded_sequence, ReduceLROnPlateau, clipping."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence


class Tagger(nn.Module):
    def __init__(self, vocab, tags, emb=8, hidden=6):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb, padding_idx=0, dtype=torch.float64)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True, bidirectional=True, dtype=torch.float64)
        self.out = nn.Linear(2 * hidden, tags, dtype=torch.float64)

    def forward(self, tokens, lengths):
        packed = pack_padded_sequence(self.embed(tokens), lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True)
        return self.out(out)


def batches(seed=0, n=6, batch=4, vocab=12, tags=3):
    g = np.random.default_rng(seed)
    for _ in range(n):
        lengths = g.integers(1, 7, batch)
        seqs = [torch.tensor(g.integers(1, vocab, k)) for k in lengths]
        labels = [torch.tensor(g.integers(0, tags, k)) for k in lengths]
        yield pad_sequence(seqs, batch_first=True), pad_sequence(labels, batch_first=True, padding_value=-100), \
            torch.tensor(lengths)


def main(init=None, epochs=3, only_init=False):
    model = Tagger(12, 3)
    if init is not None:
        model.load_state_dict({k: torch.tensor(v) for k, v in init.items()})
    if only_init:
        return [], {k: np.array(v) for k, v in model.state_dict().items()}
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=0)
    losses = []
    for epoch in range(epochs):
        model.train()
        for tokens, labels, lengths in batches(seed=epoch):
            logits = model(tokens, lengths)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            opt.step()
            losses.append(loss.item())
        model.eval()
        with torch.no_grad():
            correct = total = 0
            val = 0.0
            for tokens, labels, lengths in batches(seed=100, n=2):
                logits = model(tokens, lengths)
                val += F.cross_entropy(logits.reshape(-1, 3), labels.reshape(-1)).item()
                mask = labels != -100
                correct += (logits.argmax(dim=-1)[mask] == labels[mask]).sum().item()
                total += mask.sum().item()
        sched.step(val)
        losses.append(val)
        print(f"epoch {epoch}: val {val:.4f} acc {correct / total:.3f} lr {opt.param_groups[0]['lr']:.4f}")
    return losses, {k: np.array(v) for k, v in model.state_dict().items()}
