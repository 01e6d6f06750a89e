"""Writing a file whole: it holds its old contents or its new ones, never a mix.

    from micrograd.files import write_atomically
    write_atomically("model.json", text)         # a checkpoint (micrograd.checkpoint)
    write_atomically("graph.svg", picture)       # a drawing, a player page, a GIF

The new contents are written to a temporary file beside the file, flushed to disk
and renamed over it, so an error, a Ctrl-C or a kill -9 at any moment leaves the
file as it was (and a temporary file left by a kill -9 is removed by the next write
of that file). Everything micrograd saves is written this way.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat

__all__ = ["write_atomically"]


def write_atomically(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Make `path` hold `data` (bytes, or str written as UTF-8) in one step: it holds the
    old file or the new one, never a mix, whatever fails or however the process ends.

    The new file is written beside the file `path` names (through symlinks: a link
    stays a link to its file), gets the mode the old file had (a new one the mode the
    umask allows), is flushed to disk and is then renamed over it.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    target = os.path.realpath(path)  # through symlinks, to the file itself
    try:
        mode: int | None = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None
    directory = os.path.dirname(target)
    # Beside the target (so the rename is atomic), named for this process: see _remove_leftovers
    temporary = f"{target}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        _write_new_file(directory, temporary, data, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise
    _sync_directory(directory)
    # The file is written: tidying up after others (a directory we may not list, a
    # leftover we may not remove) must not make the write fail.
    with contextlib.suppress(OSError):
        _remove_leftovers(target)


def _remove_leftovers(target: str) -> None:
    """Remove the temporary files of earlier writes of `target` that were killed (kill -9)
    between naming the new file and renaming it: those whose process no longer runs.

    Only on POSIX, where a process can be asked whether it runs (on Windows, os.kill
    would stop it). A process id that was reused keeps its file until a later write; a
    name whose "process id" no process can have is not ours to judge, and stays.
    """
    if os.name != "posix":
        return
    directory, name = os.path.split(target)
    # a process id is a C int (pid_t): at most 10 digits
    leftover = re.compile(re.escape(name) + r"\.(\d{1,10})\.[0-9a-f]{8}\.tmp")
    for entry in os.listdir(directory):
        match = leftover.fullmatch(entry)
        if match and not _may_be_running(int(match.group(1))):
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(directory, entry))


def _may_be_running(pid: int) -> bool:
    """False only if no process `pid` exists (so a file named for it is a leftover)."""
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, as another user's
        return True
    except (OverflowError, ValueError):  # not a pid this system has: not ours to judge
        return True
    return True


def _write_new_file(directory: str, name: str, data: bytes, mode: int | None) -> None:
    """Create the file `name` holding `data`, flushed to disk.

    On Linux it is written with no name at all (O_TMPFILE) and named only once it is
    whole, so a kill -9 while writing leaves nothing behind (one in the moment between
    naming it and the rename leaves the name, which the next write removes); elsewhere
    it is named from the start.
    """
    if hasattr(os, "O_TMPFILE"):
        try:
            fd = os.open(directory, os.O_TMPFILE | os.O_WRONLY, 0o666)
        except OSError:  # a file system without unnamed files
            pass
        else:
            try:
                _fill(fd, data, mode)
                try:  # linkat(AT_SYMLINK_FOLLOW) of /proc/self/fd/N names the open file;
                    # os.link calls linkat rather than link only when given a directory fd
                    folder = os.open(directory, os.O_RDONLY)
                    try:
                        os.link(f"/proc/self/fd/{fd}", os.path.basename(name), dst_dir_fd=folder)
                    finally:
                        os.close(folder)
                    return
                except OSError:  # no /proc, say: write it again, named
                    pass
            finally:
                os.close(fd)
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        _fill(fd, data, mode)
    finally:
        os.close(fd)


def _fill(fd: int, data: bytes, mode: int | None) -> None:
    if mode is not None and hasattr(os, "fchmod"):  # (Windows has no modes to keep)
        os.fchmod(fd, mode)
    view = memoryview(data)
    while view:  # os.write may write less than it was given
        view = view[os.write(fd, view) :]
    os.fsync(fd)  # on disk before the rename makes it the file


def _sync_directory(directory: str) -> None:
    """Flush the rename to disk too, where a directory can be opened (not on Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
