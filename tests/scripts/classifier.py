"""A sequence classifier, written for PyTorch: a GRU, OneCycleLR, label smoothing, argmax accuracy with ==."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Classifier(nn.Module):
    def __init__(self, classes=4, hidden=7):
        super().__init__()
        self.gru = nn.GRU(2, hidden, num_layers=2, batch_first=True, dtype=torch.float64)
        self.drop = nn.Dropout(0.0)
        self.fc = nn.Sequential(nn.Linear(hidden, hidden, dtype=torch.float64), nn.ReLU(),
                                nn.Linear(hidden, classes, dtype=torch.float64))

    def forward(self, x):
        out, h_n = self.gru(x)
        return self.fc(self.drop(h_n[-1]))


def data(seed, n=8, T=5):
    g = np.random.default_rng(seed)
    x = g.standard_normal((n, T, 2))
    y = (x[:, :, 0].sum(axis=1) > 0).astype(np.int64) * 2 + (x[:, -1, 1] > 0)
    return torch.tensor(x), torch.tensor(y)


def main(init=None, steps=12, only_init=False):
    model = Classifier()
    if init is not None:
        model.load_state_dict({k: torch.tensor(v) for k, v in init.items()})
    if only_init:
        return [], {k: np.array(v) for k, v in model.state_dict().items()}
    opt = torch.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=steps)
    losses = []
    for step in range(steps):
        x, y = data(step)
        logits = model(x)
        loss = F.cross_entropy(logits, y, label_smoothing=0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        acc = (logits.argmax(1) == y).float().mean()
        losses += [loss.item(), float(acc)]
        print(f"step {step}: loss {loss:.4f} acc {acc.item():.2f} lr {sched.get_last_lr()[0]:.5f}")
    return losses, {k: np.array(v) for k, v in model.state_dict().items()}
