"""Is the data directory usable? Asked before any index or database work.

In a container the usual mistake is a bind-mounted host directory owned by another UID:
without this check the index build ran for 15-27 s and then SQLite said "unable to open
database file", naming neither the directory nor the user. The message names the
directory, its owner and the UID we run as, which is what it takes to fix it.
"""

from __future__ import annotations

import os
import pwd
from pathlib import Path


def _owner(path: Path) -> str:
    try:
        uid = path.stat().st_uid
    except OSError:
        return "unknown owner"
    try:
        return f"UID {uid} ({pwd.getpwuid(uid).pw_name})"
    except KeyError:
        return f"UID {uid}"


def _running_as() -> str:
    uid = os.geteuid()
    try:
        return f"UID {uid} ({pwd.getpwuid(uid).pw_name})"
    except KeyError:
        return f"UID {uid}"


def data_dir_problem(path: Path) -> str | None:
    """None when `path` exists (or can be created) and we can write in it; else why not."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing != path:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return (
                f"the data directory {path} cannot be created ({exc.strerror}): {existing} "
                f"is owned by {_owner(existing)} and mentor runs as {_running_as()}. "
                "Set MENTOR_DATA_DIR to a writable directory."
            )
    if not path.is_dir():
        return f"the data directory {path} is not a directory; set MENTOR_DATA_DIR to one."
    if not os.access(path, os.W_OK | os.X_OK):
        return (
            f"the data directory {path} is not writable: it is owned by {_owner(path)} with "
            f"mode {path.stat().st_mode & 0o777:o}, and mentor runs as {_running_as()}. Make it "
            "writable for that UID (e.g. `chown` it on the host), or use a named volume."
        )
    return None
