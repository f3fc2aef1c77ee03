"""The applications: `python -m tinygrad_rnn <command>` (cli.py dispatches to one module per command: train, sample,
compare, adding, demo, bench, graph, gradflow) and what they share (models: the cells by name; charlm; presets;
train_options; schedules; metrics; progress; data, files, resources). They may import anything in the package;
nothing outside apps/ imports them."""
