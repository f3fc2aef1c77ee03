"""What the train-command tests share: a small corpus and the options of a model that trains in a second."""
CORPUS = "the quick brown fox jumps over the lazy dog. " * 40
SMALL = ["--hidden", "16", "--layers", "1", "--seq-len", "8", "--batch", "4", "--quiet", "--sample-every", "1000"]
