"""An LSTM classifier with attention pooling over time, written for PyTorch: scores from a learned query, a mask
built from the lengths (torch.arange(T)[None, :] >= lengths[:, None]), masked_fill(-inf) and softmax over time,
torch.bmm for the weighted sum; torch.autograd.grad for a saliency of the embeddings; SGD with weight decay."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class AttentionPool(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.proj = nn.Linear(hidden, hidden, dtype=torch.float64)
        self.query = nn.Parameter(torch.randn(hidden, dtype=torch.float64) * 0.1)

    def forward(self, outputs, lengths):        # outputs: (B, T, H)
        B, T, _ = outputs.size()
        scores = torch.tanh(self.proj(outputs)) @ self.query                   # (B, T)
        mask = torch.arange(T).unsqueeze(0).expand(B, T) >= lengths.unsqueeze(1)
        scores = scores.masked_fill(mask, float("-inf"))
        weights = F.softmax(scores, dim=1)
        pooled = torch.bmm(weights.unsqueeze(1), outputs).squeeze(1)           # (B, H)
        return pooled, weights


class Classifier(nn.Module):
    def __init__(self, vocab=10, emb=6, hidden=8, classes=3):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb, padding_idx=0, dtype=torch.float64)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True, dtype=torch.float64)
        self.attn = AttentionPool(hidden)
        self.out = nn.Linear(hidden, classes, dtype=torch.float64)

    def forward(self, tokens, lengths, return_embedded=False):
        embedded = self.embedding(tokens)
        outputs, (h_n, c_n) = self.lstm(embedded)
        pooled, weights = self.attn(outputs, lengths)
        logits = self.out(pooled)
        return (logits, weights, embedded) if return_embedded else (logits, weights)


def batch(seed, batch_size=6, max_len=7, vocab=10):
    g = np.random.default_rng(seed)
    lengths = g.integers(2, max_len + 1, batch_size)
    tokens = np.zeros((batch_size, max_len), dtype=np.int64)
    for i, n in enumerate(lengths):
        tokens[i, :n] = g.integers(1, vocab, n)
    labels = np.array([tokens[i, :n].max() % 3 for i, n in enumerate(lengths)])
    return torch.tensor(tokens), torch.tensor(lengths), torch.tensor(labels)


def main(init=None, steps=10, only_init=False):
    torch.manual_seed(0)
    model = Classifier()
    if init is not None:
        model.load_state_dict({k: torch.tensor(v) for k, v in init.items()})
    if only_init:
        return [], {k: np.array(v) for k, v in model.state_dict().items()}
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9, weight_decay=1e-4)
    losses = []
    for step in range(steps):
        model.train()
        tokens, lengths, labels = batch(step)
        logits, weights, embedded = model(tokens, lengths, return_embedded=True)
        loss = F.cross_entropy(logits, labels)
        (saliency,) = torch.autograd.grad(loss, embedded, retain_graph=True)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        pad_weight = weights.masked_select(torch.arange(weights.size(1))[None, :] >= lengths[:, None]).sum()
        top = saliency.norm(dim=2).argmax(dim=1)
        losses += [loss.item(), weights.detach().max().item(), saliency.abs().sum().item(), pad_weight.item()]
        print(f"step {step}: loss {loss.item():.5f} salient positions {top.tolist()} "
              f"weight on padding {pad_weight.item():.1f}")
    model.eval()
    with torch.no_grad():
        tokens, lengths, labels = batch(99)
        logits, weights = model(tokens, lengths)
        correct = (logits.argmax(dim=1) == labels).sum().item()
        losses += [F.cross_entropy(logits, labels).item(), correct / labels.size(0)]
    print(f"eval accuracy {correct}/{labels.size(0)}; weights of sequence 0: "
          f"{[round(w, 3) for w in weights[0].tolist()]}")
    return losses, {k: np.array(v) for k, v in model.state_dict().items()}
