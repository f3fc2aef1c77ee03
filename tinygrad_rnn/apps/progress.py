"""Progress of a long command: a tqdm bar on a terminal, one line every N steps when the output goes to a file or
a pipe (a redrawn bar there is a carriage-return line per step: 157 KB for 1,000 steps), nothing when quiet."""
import sys


def on_terminal():
    """Whether both output streams are terminals (the bar is drawn on stderr; stdout carries the samples)."""
    return all(stream is not None and hasattr(stream, "isatty") and stream.isatty()
               for stream in (sys.stdout, sys.stderr))


class Progress:
    """update(step, status) after each step; write(text) for text that must not tear the bar; close()."""

    def __init__(self, step, steps, quiet=False, every=100, bar=None):
        self.steps, self.every, self.quiet = steps, every, quiet
        self.bar = None
        if not quiet and (on_terminal() if bar is None else bar):
            from tqdm import tqdm

            self.bar = tqdm(total=steps, initial=step, unit="step", dynamic_ncols=True)

    def update(self, step, status):
        if self.bar is not None:
            self.bar.set_postfix_str(status)
            self.bar.update(1)
        elif not self.quiet and (step % self.every == 0 or step == self.steps):
            print(f"step {step}/{self.steps}: {status}", flush=True)

    def write(self, text):
        if self.bar is not None:
            self.bar.write(text)
        else:
            print(text, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()
