"""A GRU encoder-decoder, written for PyTorch (the seq2seq tutorials' shape): it learns to reverse short token
sequences. nn.Embedding, a context vector fed to every decoder step with torch.cat, teacher forcing, greedy argmax
decoding under torch.no_grad(), cross-entropy that ignores padding, StepLR, clip_grad_norm_."""
import random

import numpy as np
import torch
import torch.nn as nn

PAD, SOS, EOS = 0, 1, 2
VOCAB = 9


class Encoder(nn.Module):
    def __init__(self, vocab, emb, hidden):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb, padding_idx=PAD, dtype=torch.float64)
        self.rnn = nn.GRU(emb, hidden, dtype=torch.float64)
        self.dropout = nn.Dropout(0.0)

    def forward(self, src):                       # src: (T, B)
        embedded = self.dropout(self.embedding(src))
        outputs, hidden = self.rnn(embedded)
        return hidden                             # (1, B, H): the context


class Decoder(nn.Module):
    def __init__(self, vocab, emb, hidden):
        super().__init__()
        self.output_dim = vocab
        self.embedding = nn.Embedding(vocab, emb, dtype=torch.float64)
        self.rnn = nn.GRU(emb + hidden, hidden, dtype=torch.float64)
        self.fc_out = nn.Linear(emb + hidden * 2, vocab, dtype=torch.float64)

    def forward(self, input, hidden, context):   # input: (B,)
        input = input.unsqueeze(0)
        embedded = self.embedding(input)
        emb_con = torch.cat((embedded, context), dim=2)
        output, hidden = self.rnn(emb_con, hidden)
        output = torch.cat((embedded.squeeze(0), hidden.squeeze(0), context.squeeze(0)), dim=1)
        return self.fc_out(output), hidden


class Seq2Seq(nn.Module):
    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def forward(self, src, trg, teacher_forcing_ratio=0.5):
        trg_len = trg.shape[0]
        context = self.encoder(src)
        hidden = context
        input = trg[0, :]
        outputs = []
        for t in range(1, trg_len):
            output, hidden = self.decoder(input, hidden, context)
            outputs.append(output)
            teacher_force = random.random() < teacher_forcing_ratio
            top1 = output.argmax(1)
            input = trg[t] if teacher_force else top1
        return torch.stack(outputs)               # (trg_len - 1, B, vocab)


def batch(seed, batch_size=5, length=4):
    g = np.random.default_rng(seed)
    tokens = g.integers(3, VOCAB, (batch_size, length))
    src = np.concatenate([np.full((batch_size, 1), SOS), tokens, np.full((batch_size, 1), EOS)], axis=1)
    trg = np.concatenate([np.full((batch_size, 1), SOS), tokens[:, ::-1], np.full((batch_size, 1), EOS)], axis=1)
    return torch.tensor(src.T.copy()), torch.tensor(trg.T.copy())   # time first, as nn.GRU's default


def main(init=None, steps=10, only_init=False):
    random.seed(0)
    model = Seq2Seq(Encoder(VOCAB, 5, 8), Decoder(VOCAB, 5, 8))
    if init is not None:
        model.load_state_dict({k: torch.tensor(v) for k, v in init.items()})
    if only_init:
        return [], {k: np.array(v) for k, v in model.state_dict().items()}
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)
    criterion = nn.CrossEntropyLoss(ignore_index=PAD)
    losses = []
    for step in range(steps):
        model.train()
        src, trg = batch(step)
        optimizer.zero_grad()
        output = model(src, trg)
        output_dim = output.shape[-1]
        loss = criterion(output.view(-1, output_dim), trg[1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        model.eval()
        with torch.no_grad():
            src, trg = batch(1000)
            output = model(src, trg, teacher_forcing_ratio=0.0)   # greedy decoding: each step feeds its argmax
            preds = output.argmax(dim=-1)
            acc = (preds == trg[1:]).float().mean().item()
            val = criterion(output.view(-1, output.shape[-1]), trg[1:].reshape(-1)).item()
        losses += [val, acc]
        print(f"step {step:2d} | train loss {loss.item():.4f} | val loss {val:.4f} | acc {acc:.3f} | "
              f"lr {scheduler.get_last_lr()[0]:.4f}")
    print("decoded:", preds[:, 0].tolist(), "target:", trg[1:, 0].tolist())
    return losses, {k: np.array(v) for k, v in model.state_dict().items()}
