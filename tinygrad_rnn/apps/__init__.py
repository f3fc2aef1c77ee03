"""The applications: `python -m tinygrad_rnn <command>` (cli.py dispatches to one module per command: train, sample,
adding, demo, bench, graph, gradflow) and what they share (charlm, data, files, resources). They may import
anything in the package; nothing outside apps/ imports them."""
