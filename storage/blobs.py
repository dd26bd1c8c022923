"""Content-addressed blob store on disk (raw mail, attachments, outbound mail too big for its outbox row).

A blob is named by the sha256 of its bytes, so writing the same bytes twice
is harmless and a blob written before a transaction that then rolls back is
merely an orphan, never a wrong answer.  Writes go to a temporary file that
is fsynced and renamed, so a crash never leaves a half-written blob under a
valid name.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


# Bytes up to which a unit (received or rendered mail) is kept in its database row instead: committed with the
# row, one fsync for a whole group of them, no file per mail; bigger ones come here so rows stay small to read.
IN_ROW_LIMIT = 256 * 1024


class BlobNotFound(KeyError):
    """No blob with that hash is stored."""


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise BlobNotFound(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        """Store `data` durably; returns its sha256."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)
        return digest

    def get(self, sha256: str) -> bytes:
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError as exc:
            raise BlobNotFound(sha256) from exc

    def exists(self, sha256: str) -> bool:
        try:
            return self.path(sha256).exists()
        except BlobNotFound:
            return False


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX needs the directory synced)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
