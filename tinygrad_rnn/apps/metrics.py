"""What `train` records beside its checkpoint: a metrics CSV (one row per step, validation every --eval-every
steps) and, when matplotlib is installed, a loss-curve PNG drawn from it.

The CSV is this run's own when its first line is HEADER: a resumed run keeps its rows up to the checkpoint's step
(rows a killed run wrote after its last checkpoint are dropped, so a step is never listed twice) and appends.
"""
import csv
import io
import math
import os

from .files import write_atomically

HEADER = ("step", "loss", "bits_per_char", "lr", "chars_per_s", "valid_bits_per_char")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def beside(out, suffix):
    """The default path of an output written next to the checkpoint `out`: char_lm.safetensors -> char_lm<suffix>."""
    return os.path.splitext(out)[0] + suffix


def is_metrics_file(path):
    """Whether `path` is a metrics CSV that train wrote (its first line is HEADER)."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            return f.readline().rstrip("\r\n") == ",".join(HEADER)
    except (OSError, UnicodeDecodeError):
        return False


def is_png(path):
    try:
        with open(path, "rb") as f:
            return f.read(len(PNG_SIGNATURE)) == PNG_SIGNATURE
    except OSError:
        return False


def read_rows(path):
    """The rows of a metrics CSV as dicts of floats (valid_bits_per_char None where no validation ran)."""
    rows = []
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            try:
                rows.append({k: (float(v) if v not in ("", None) else None) for k, v in row.items()})
            except (TypeError, ValueError):
                continue                      # a row cut short by a kill: the rest of the file is still good
    return rows


class MetricsLog:
    """Appends one CSV row per training step to `path` (None: no file); flushed at every row, so a killed run
    leaves every finished step on disk. discard() removes a file this log created."""

    def __init__(self, path, start_step=0):
        self.path, self.file, self.writer = path, None, None
        self.created = path is not None and not os.path.exists(path)
        if path is None:
            return
        kept = []
        if start_step > 0 and is_metrics_file(path):
            kept = [r for r in read_rows(path) if r["step"] is not None and r["step"] <= start_step]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(HEADER)
        for r in kept:
            writer.writerow([_cell(r[k]) if k != "step" else int(r[k]) for k in HEADER])
        write_atomically(path, buffer.getvalue().encode("utf-8"))
        self.file = open(path, "a", encoding="utf-8", newline="")
        self.writer = csv.writer(self.file, lineterminator="\n")

    def row(self, step, loss, bits_per_char, lr, chars_per_s, valid_bits_per_char=None):
        if self.writer is None:
            return
        self.writer.writerow([step, _cell(loss), _cell(bits_per_char), _cell(lr), _cell(chars_per_s),
                              _cell(valid_bits_per_char)])
        self.file.flush()

    def close(self):
        if self.file is not None:
            self.file.close()
            self.file = None

    def discard(self):
        """Closes the log and removes its file if this log created it (a run that stopped before its first
        checkpoint leaves nothing behind)."""
        self.close()
        if self.created:
            try:
                os.remove(self.path)
            except OSError:
                pass


def _cell(value):
    if value is None:
        return ""
    return repr(float(value)) if math.isfinite(value) else str(float(value))


def have_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def plot_loss_curve(csv_path, png_path, title):
    """The training bits per character (each step, and a running mean over 50 steps) and the validation bits per
    character against the step, drawn from the metrics CSV into a PNG (matplotlib's Agg canvas, no display)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = read_rows(csv_path)
    steps = [r["step"] for r in rows]
    bpc = [r["bits_per_char"] for r in rows]
    valid = [(r["step"], r["valid_bits_per_char"]) for r in rows if r["valid_bits_per_char"] is not None]
    fig = Figure(figsize=(7, 4), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.plot(steps, bpc, color="tab:blue", alpha=0.3, lw=0.8, label="training (each step)")
    window = 50
    if len(bpc) >= window:
        sums = [0.0]
        for v in bpc:
            sums.append(sums[-1] + v)
        mean = [(sums[k] - sums[k - window]) / window for k in range(window, len(sums))]
        ax.plot(steps[window - 1:], mean, color="tab:blue", lw=1.8, label=f"training (mean of {window} steps)")
    if valid:
        ax.plot(*zip(*valid), "o-", color="tab:orange", label="validation")
    ax.set(title=title, xlabel="step", ylabel="bits per character")
    ax.grid(True, alpha=0.3)
    ax.legend()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    write_atomically(png_path, buffer.getvalue())
