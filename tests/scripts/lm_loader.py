"""A word-language-model-style script, written for PyTorch: a Dataset of windows and a DataLoader, the device line,
an LSTM with a causal attention head (torch.tril mask, masked_fill with -inf), a forward hook that counts tokens,
hand-written SGD under no_grad (p -= lr * p.grad), clip_grad_norm_, detached hidden state, eval under
set_grad_enabled(False), perplexity."""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
torch.backends.cudnn.deterministic = True


class Windows(torch.utils.data.Dataset):
    def __init__(self, ids, bptt):
        self.ids, self.bptt = ids, bptt

    def __len__(self):
        return (len(self.ids) - 1) // self.bptt

    def __getitem__(self, i):
        chunk = self.ids[i * self.bptt:(i + 1) * self.bptt + 1]
        return chunk[:-1], chunk[1:]


class LM(nn.Module):
    def __init__(self, vocab, emb=6, hidden=8):
        super().__init__()
        self.encoder = nn.Embedding(vocab, emb, dtype=torch.float64)
        self.rnn = nn.LSTM(emb, hidden, batch_first=True, dtype=torch.float64)
        self.query = nn.Linear(hidden, hidden, bias=False, dtype=torch.float64)
        self.decoder = nn.Linear(2 * hidden, vocab, dtype=torch.float64)

    def forward(self, x, hidden=None):
        out, hidden = self.rnn(self.encoder(x), hidden)
        T = out.size(1)
        scores = torch.bmm(self.query(out), out.transpose(1, 2)) / math.sqrt(out.size(-1))
        causal = torch.tril(torch.ones(T, T, dtype=torch.bool, device=device))
        scores = scores.masked_fill(~causal, float("-inf"))
        context = torch.bmm(F.softmax(scores, dim=-1), out)
        return self.decoder(torch.cat([out, context], dim=-1)), hidden


def corpus(n=161, vocab=7):
    g = np.random.default_rng(0)
    ids = np.zeros(n, dtype=np.int64)
    for t in range(1, n):                  # a sequence with structure: mostly next = (prev * 3 + 1) mod vocab
        ids[t] = (ids[t - 1] * 3 + 1) % vocab if g.random() < 0.8 else g.integers(vocab)
    return torch.from_numpy(ids), vocab


def main(init=None, epochs=3, only_init=False):
    ids, vocab = corpus()
    model = LM(vocab).to(device)
    if init is not None:
        model.load_state_dict({k: torch.tensor(v) for k, v in init.items()})
    if only_init:
        return [], {k: np.array(v) for k, v in model.state_dict().items()}
    train = torch.utils.data.DataLoader(Windows(ids[:121], bptt=10), batch_size=4, shuffle=False, drop_last=True)
    valid = torch.utils.data.DataLoader(Windows(ids[120:], bptt=10), batch_size=2)
    seen = []
    model.encoder.register_forward_hook(lambda module, args, output: seen.append(args[0].numel()))
    lr, losses = 0.5, []
    for epoch in range(epochs):
        model.train()
        hidden, total = None, 0.0
        for x, y in train:
            x, y = x.to(device), y.to(device)
            if hidden is not None:
                hidden = tuple(h.detach() for h in hidden)
            model.zero_grad()
            logits, hidden = model(x, hidden)
            loss = F.cross_entropy(logits.view(-1, vocab), y.reshape(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
            with torch.no_grad():
                for p in model.parameters():
                    p -= lr * p.grad
            total += loss.item()
            losses.append(loss.item())
        model.eval()
        with torch.set_grad_enabled(False):
            val = sum(F.cross_entropy(model(x)[0].view(-1, vocab), y.view(-1), reduction="sum").item()
                      for x, y in valid) / sum(y.numel() for _, y in valid)
        losses.append(val)
        print(f"epoch {epoch} | train {total / len(train):.6f} | valid ppl {math.exp(val):8.4f} | tokens {sum(seen)}")
        lr *= 0.8
    return losses, {k: np.array(v) for k, v in model.state_dict().items()}
