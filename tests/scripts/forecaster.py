"""A forecaster with a hand-written LayerNorm-LSTM cell in a ModuleList, written for PyTorch: xavier init, SGD with
momentum, early stopping, torch.save/torch.load of the best model."""
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn


class LayerNormLSTMCell(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.ih = nn.Linear(input_size, 4 * hidden_size, dtype=torch.float64)
        self.hh = nn.Linear(hidden_size, 4 * hidden_size, bias=False, dtype=torch.float64)
        self.ln_gates = nn.LayerNorm(4 * hidden_size, dtype=torch.float64)
        self.ln_cell = nn.LayerNorm(hidden_size, dtype=torch.float64)
        for w in (self.ih.weight, self.hh.weight):
            nn.init.xavier_uniform_(w)

    def forward(self, x, state):
        h, c = state
        i, f, g, o = self.ln_gates(self.ih(x) + self.hh(h)).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(self.ln_cell(c))
        return h, c


class Forecaster(nn.Module):
    def __init__(self, hidden=5, layers=2):
        super().__init__()
        self.cells = nn.ModuleList([LayerNormLSTMCell(1 if k == 0 else hidden, hidden) for k in range(layers)])
        self.head = nn.Linear(hidden, 1, dtype=torch.float64)
        self.hidden = hidden

    def forward(self, x):                                   # x: (T, B, 1)
        states = [(torch.zeros(x.shape[1], self.hidden, dtype=torch.float64),
                   torch.zeros(x.shape[1], self.hidden, dtype=torch.float64)) for _ in self.cells]
        outs = []
        for t in range(x.shape[0]):
            inp = x[t]
            for k, cell in enumerate(self.cells):
                states[k] = cell(inp, states[k])
                inp = states[k][0]
            outs.append(self.head(inp))
        return torch.stack(outs)


def series(seed, T=12, B=3):
    g = np.random.default_rng(seed)
    phase = g.uniform(0, 6, (1, B, 1))
    t = np.arange(T + 1).reshape(-1, 1, 1)
    s = np.sin(0.5 * t + phase) + 0.05 * g.standard_normal((T + 1, B, 1))
    return torch.tensor(s[:-1]), torch.tensor(s[1:])


def main(init=None, epochs=6, patience=2, only_init=False):
    model = Forecaster()
    if init is not None:
        model.load_state_dict({k: torch.tensor(v) for k, v in init.items()})
    if only_init:
        return [], {k: np.array(v) for k, v in model.state_dict().items()}
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.MSELoss()
    best, bad, losses = float("inf"), 0, []
    path = os.path.join(tempfile.mkdtemp(), "best.pt")
    for epoch in range(epochs):
        for step in range(4):
            x, y = series(seed=10 * epoch + step)
            loss = loss_fn(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        with torch.no_grad():
            x, y = series(seed=999)
            val = loss_fn(model(x), y).item()
        losses.append(val)
        if val < best:
            best, bad = val, 0
            torch.save(model.state_dict(), path)
        else:
            bad += 1
            if bad >= patience:
                break
    model.load_state_dict(torch.load(path))
    with torch.no_grad():
        x, y = series(seed=999)
        losses.append(loss_fn(model(x), y).item())           # the best model, restored: its validation loss
    print(f"best validation loss {best:.5f} after {len(losses)} records")
    return losses, {k: np.array(v) for k, v in model.state_dict().items()}
