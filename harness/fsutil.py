"""Atomic file writes: a reader (or a crash) sees the old file or the new one, never half of one.

Temp files come from `mkstemp`, which creates them 0600; every file is given `FILE_MODE` before it
is renamed into place, so goldens, cassettes and reports are readable like any file `open` makes.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

FILE_MODE = 0o644


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a temp file in the same folder, fsync, then rename over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ------------------------------------------------------------------------------ file sets

JOURNAL_SUFFIX = ".commit.json"


def commit_files(folder: Path, files: dict[str, bytes], *, name: str) -> None:
    """Replace several files in `folder` as one unit, surviving SIGKILL at any moment.

    1. every new file is written to a temp file and fsynced; 2. a journal naming the renames is
    written atomically; 3. the renames happen; 4. the journal is removed. A kill before step 2
    leaves only temp files (removed by `recover`): the old set stands. A kill after step 2 is
    rolled forward by `recover`: the new set stands. Either way no set is ever mixed for longer
    than until the next `recover` of the folder.
    """
    folder.mkdir(parents=True, exist_ok=True)
    renames: list[tuple[str, str]] = []
    try:
        for file_name, data in files.items():
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{file_name}.", suffix=".tmp")
            os.fchmod(fd, FILE_MODE)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            renames.append((Path(tmp).name, file_name))
    except BaseException:
        for tmp_name, _ in renames:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(folder / tmp_name)
        raise
    journal = folder / f".{name}{JOURNAL_SUFFIX}"
    atomic_write_bytes(journal, json.dumps(renames).encode())
    _roll_forward(folder, journal)


def _roll_forward(folder: Path, journal: Path) -> None:
    for tmp_name, final_name in json.loads(journal.read_bytes()):
        tmp = folder / tmp_name
        if tmp.exists():
            os.replace(tmp, folder / final_name)
    _fsync_dir(folder)
    journal.unlink()
    _fsync_dir(folder)


def recover(folder: Path) -> list[str]:
    """Finish or undo interrupted `commit_files` in `folder`; returns what it did."""
    done: list[str] = []
    if not folder.is_dir():
        return done
    for journal in sorted(folder.glob(f".*{JOURNAL_SUFFIX}")):
        try:
            _roll_forward(folder, journal)
            done.append(f"rolled forward {journal.name}")
        except ValueError:
            journal.unlink()
            done.append(f"dropped unreadable {journal.name}")
    for stray in sorted(folder.glob(".*.tmp")):
        stray.unlink()
        done.append(f"removed partial {stray.name}")
    return done
