"""A character-level LSTM language model, written for PyTorch: truncated BPTT with the state detached between
windows, a checkpoint saved with torch.save({model.state_dict(), optimizer.state_dict(), ...}), then a fresh model
and optimiser that torch.load + load_state_dict and resume training; greedy sampling under eval()/no_grad()."""
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TEXT = "hello world, hello recurrent world. the tape remembers every step of the way. " * 3
chars = sorted(set(TEXT))
stoi = {c: i for i, c in enumerate(chars)}
itos = {i: c for c, i in stoi.items()}
data = torch.tensor([stoi[c] for c in TEXT], dtype=torch.long)


class CharRNN(nn.Module):
    def __init__(self, vocab_size, embed=10, hidden=16, layers=2):
        super().__init__()
        self.hidden_size, self.num_layers = hidden, layers
        self.embed = nn.Embedding(vocab_size, embed, dtype=torch.float64)
        self.lstm = nn.LSTM(embed, hidden, num_layers=layers, batch_first=True, dtype=torch.float64)
        self.fc = nn.Linear(hidden, vocab_size, dtype=torch.float64)

    def forward(self, x, hidden=None):
        out, hidden = self.lstm(self.embed(x), hidden)
        logits = self.fc(out.reshape(-1, out.size(2)))
        return logits, hidden

    def init_hidden(self, batch_size):
        return (torch.zeros(self.num_layers, batch_size, self.hidden_size, dtype=torch.float64),
                torch.zeros(self.num_layers, batch_size, self.hidden_size, dtype=torch.float64))


def windows(seq_len=12, batch_size=3):
    """Consecutive (input, target) windows of a (batch, steps) layout: the state carries across windows."""
    n = (data.size(0) - 1) // batch_size
    x = data[: n * batch_size].view(batch_size, -1)
    y = data[1: n * batch_size + 1].view(batch_size, -1)
    for i in range(0, n - seq_len + 1, seq_len):
        yield x[:, i:i + seq_len], y[:, i:i + seq_len]


def train_epoch(model, optimizer, losses):
    model.train()
    hidden = model.init_hidden(3)
    for x, y in windows():
        hidden = tuple(h.detach() for h in hidden)         # truncated BPTT
        optimizer.zero_grad()
        logits, hidden = model(x, hidden)
        loss = F.cross_entropy(logits, y.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
        optimizer.step()
        losses.append(loss.item())
    return loss.item()


def sample(model, start="h", length=20):
    model.eval()
    with torch.no_grad():
        hidden = None
        x = torch.tensor([[stoi[start]]])
        out = start
        for _ in range(length):
            logits, hidden = model(x, hidden)
            nxt = torch.argmax(logits[-1]).item()
            out += itos[nxt]
            x = torch.tensor([[nxt]])
    return out


def main(init=None, epochs=2, resumed_epochs=2, only_init=False, workdir=None):
    model = CharRNN(len(chars))
    if init is not None:
        model.load_state_dict({k: torch.tensor(v) for k, v in init.items()})
    if only_init:
        return [], {k: np.array(v) for k, v in model.state_dict().items()}
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for epoch in range(epochs):
        last = train_epoch(model, optimizer, losses)
        print(f"epoch {epoch} loss {last:.4f} sample {sample(model)!r}")
    path = os.path.join(workdir, "char_rnn.pt")
    torch.save({"epoch": epochs, "model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict(), "loss": last}, path)
    torch.save(model.state_dict(), os.path.join(workdir, "weights.pt"))

    resumed = CharRNN(len(chars))                        # a fresh process would start here
    resumed_opt = torch.optim.Adam(resumed.parameters(), lr=0.01)
    checkpoint = torch.load(path, weights_only=True)
    result = resumed.load_state_dict(checkpoint["model_state_dict"])
    print("load:", result)
    resumed_opt.load_state_dict(checkpoint["optimizer_state_dict"])
    start = checkpoint["epoch"]
    weights = torch.load(os.path.join(workdir, "weights.pt"))
    assert all(torch.equal(weights[k], v) for k, v in resumed.state_dict().items())
    for epoch in range(start, start + resumed_epochs):
        last = train_epoch(resumed, resumed_opt, losses)
        print(f"epoch {epoch} loss {last:.4f} sample {sample(resumed)!r}")
    for epoch in range(start, start + resumed_epochs):    # the run that never stopped takes the same steps
        last = train_epoch(model, optimizer, losses)
    print(f"uninterrupted: loss {last:.4f}")
    return losses, {k: np.array(v) for k, v in resumed.state_dict().items()}
