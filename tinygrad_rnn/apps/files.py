"""The command line's file checks: inputs are regular files, an output is checked before any work starts and never
replaces what is not this run's own checkpoint, and a save's leftover temporary files are cleared.

A FIFO or a device as an input would block or never end (/dev/zero); as an output, the atomic rename would put a
regular file in its place (as root, --out /dev/null replaced the system's /dev/null).
"""
import errno
import os
import re
import secrets
import stat

from .cli import UsageError

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _kind(mode):
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def require_regular_file(path, what):
    """Nothing, or UsageError if `path` exists and is not a regular file (a symlink is judged by its target).

    A missing file is left to the reader, whose message says so; `what` names the argument ("--text FILE").
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if not stat.S_ISREG(mode):
        raise UsageError(f"{what}: is {_kind(mode)}, expected a regular file")


def same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def same_path(a, b):
    """Whether two paths name the same file, existing or not (samefile needs both to exist)."""
    return same_file(a, b) or os.path.realpath(a) == os.path.realpath(b)


def temporary_name(path):
    """A name as checkpoint._write_atomically makes for `path`: same directory, same length."""
    return os.path.join(os.path.dirname(os.path.abspath(path)),
                        f".{os.path.basename(path)}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def check_checkpoint_target(path, text=None, resume=None, force=False, what="--out"):
    """Refuses, before training, a checkpoint path that a save would fail on or that holds something not ours.

    Never replaced, even with force: a directory, FIFO, device or socket (or a symlink to one), and the corpus
    (`text`). Replaced only with force: any other existing file, unless it is the checkpoint being resumed
    (`resume`). Then the directory must take the temporary file the atomic save writes first (it must exist, be
    writable, and the temporary name must not be too long): created and removed here, as a probe.
    """
    from .. import checkpoint

    name = f"{what} {path}"
    if _existing_file(path, name, what, text, "a checkpoint file (a regular file or a new name)",
                      "the checkpoint would replace it"):
        if not (resume is not None and same_file(path, resume)) and not force:
            try:
                saved = checkpoint.load(path)
            except checkpoint.CheckpointError:
                raise UsageError(f"{name}: exists and is not a checkpoint; pass --force to replace it, or choose "
                                 f"another {what}") from None
            raise UsageError(f"{name}: holds the checkpoint of another run (step {saved['step']}); continue it with "
                             f"--resume {path}, or pass --force to replace it") from None
    _probe_directory(path, name, "a checkpoint ", name_hint=True)


def _existing_file(path, name, what, text, expected, corpus_clash):
    """Whether `path` exists, after refusing what is never replaced: a dangling symbolic link, anything but a
    regular file (named against `expected`), and the corpus `text` (`corpus_clash` says what would happen)."""
    if not os.path.lexists(path):
        return False
    try:
        mode = os.stat(path).st_mode
    except OSError as err:
        raise UsageError(f"{name}: is a symbolic link to nothing ({err.strerror}); remove it or choose another "
                         f"{what}") from None
    if not stat.S_ISREG(mode):
        raise UsageError(f"{name}: is {_kind(mode)}, expected {expected}")
    if text is not None and same_file(path, text):
        raise UsageError(f"{name}: is the corpus --text {text}; {corpus_clash}")
    return True


def _probe_directory(path, name, writing="", name_hint=False):
    """The directory of `path` must exist and take the temporary file an atomic save writes first: created and
    removed here; with name_hint, a name too long says how long the temporary name is."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        problem = "does not exist" if not os.path.lexists(directory) else "is not a directory"
        raise UsageError(f"{name}: the directory {directory} {problem}")
    probe = temporary_name(path)
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        os.remove(probe)
    except OSError as err:
        hint = (f" (the save first writes {os.path.basename(probe)}, {len(os.path.basename(probe))} characters)"
                if name_hint and err.errno == errno.ENAMETOOLONG else "")
        raise UsageError(f"{name}: cannot write {writing}there: {err.strerror}{hint}") from None


def remove_stale_temporaries(path):
    """Removes the temporary files that saves to `path` left behind when killed (their process no longer exists).

    A live process's temporary file may be a save in progress (another run writing the same path): it stays.
    """
    directory = os.path.dirname(os.path.abspath(path))
    pattern = re.compile(rf"\.{re.escape(os.path.basename(path))}\.(\d+)\.[0-9a-f]{{8}}\.tmp")
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for entry in names:
        match = pattern.fullmatch(entry)
        if match and not _alive(int(match.group(1))):
            try:
                os.remove(os.path.join(directory, entry))
            except OSError:
                pass


def _alive(pid):
    if pid <= 0:
        return True                      # not a pid we wrote: leave the file alone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:                      # EPERM: alive, another user's
        return True
    return True


def check_output_target(path, what, ours=lambda path: False, text=None, force=False):
    """Refuses, before training, an output file (a metrics CSV, a plot) that a run may not write.

    Never replaced, even with force: a directory, FIFO, device or socket (or a symlink to one), and the corpus
    (`text`). Another existing file only if ours(path) says it is this run's own (the run being resumed), or with
    force. The directory must exist and take a new file (probed as check_checkpoint_target does).
    """
    name = f"{what} {path}"
    if _existing_file(path, name, what, text, "a regular file or a new name", "it would be replaced"):
        if not ours(path) and not force:
            raise UsageError(f"{name}: exists and is not this run's; pass --force to replace it, choose another "
                             f"{what}, or give {what} none")
    _probe_directory(path, name)


def write_atomically(path, data):
    """Writes `data` (bytes) to a temporary file next to `path`, fsyncs it and renames it onto `path`: a crash
    leaves the old file or the new one, never half of either."""
    tmp = temporary_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
