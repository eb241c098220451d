"""sha256 of large files, remembered by file identity so that a start does not re-read them.

Every start verified the 90 MB ONNX model against the checksum in its export record: 0.13 s
on an idle machine and 0.5 s on a busy one, of a 1 s start-up budget. `VerifiedChecksums`
keeps, in a small JSON file beside the files, the sha256 it last computed for each file
together with the file's identity: device, inode, size, and modification and change times
in nanoseconds. While the identity is unchanged the stored digest is used; any change to
the identity means the file is hashed again in full.

What this keeps and what it gives up. Every write through the file system changes the
change time (ctime), which no program can set back (`touch` and `os.utime` set the
modification time only), and replacing the file changes its inode or ctime, so a file
corrupted, overwritten in place (even with its old size and mtime restored) or swapped for
another is still hashed and caught at the next start, as before. What is no longer caught at
every start is damage that bypasses the file system (a failing disk returning other bytes,
a raw write to the block device): that file is hashed again only once its identity changes.

Racy writes: time stamps have a granularity (a clock tick on ext4, 1-2 s elsewhere), so a
file written again within the same tick as the one it was hashed in could keep its
identity. An entry is therefore only stored once the file has been left alone for
`SETTLE_SECONDS`; until then it is hashed at every load, like git's "racy" index entries.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from pathlib import Path

from knowledge.embedder import sha256_file

log = logging.getLogger(__name__)

CHECKSUMS_FILE = "checksums.json"
# Longer than any file system's time-stamp granularity (FAT's is 2 s).
SETTLE_SECONDS = 3.0


def _identity(stat: os.stat_result) -> list[int]:
    return [stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]


class VerifiedChecksums:
    """The sha256 of files in `directory`, from the record while their identity holds.

    The record is only an optimisation: unreadable, missing or unwritable, it costs a full
    hash, never an error.
    """

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / CHECKSUMS_FILE
        self._entries = self._read()

    def _read(self) -> dict[str, dict[str, object]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def sha256(self, file: Path) -> str:
        """The file's sha256: remembered if its identity is the one it was hashed with,
        else computed (OSError if the file cannot be read)."""
        before = os.stat(file)
        entry = self._entries.get(file.name)
        if (
            isinstance(entry, dict)
            and entry.get("identity") == _identity(before)
            and isinstance(entry.get("sha256"), str)
        ):
            return str(entry["sha256"])
        digest = sha256_file(file)
        after = os.stat(file)
        settled = time.time() - max(after.st_mtime_ns, after.st_ctime_ns) / 1e9
        if _identity(after) == _identity(before) and settled >= SETTLE_SECONDS:
            self._entries[file.name] = {"identity": _identity(after), "sha256": digest}
            self._write()
        return digest

    def _write(self) -> None:
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps(self._entries, indent=2), encoding="utf-8")
            tmp.replace(self.path)
        except OSError as exc:  # a read-only data dir: hash in full next time too
            log.debug("could not record checksums in %s (%s)", self.path, exc)
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
