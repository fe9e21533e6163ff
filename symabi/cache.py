"""Where symabi keeps what it can reuse between runs: assembled listings, generated go_asm.h files.

Every entry is keyed by a content hash that includes the toolchain version, so a stale entry is never
read; deleting the folder is always safe.
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV_VAR = "SYMABI_CACHE_DIR"
NO_CACHE_ENV_VAR = "SYMABI_NO_CACHE"


def cache_root() -> Path:
    if env := os.environ.get(CACHE_ENV_VAR):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "symabi"


def enabled() -> bool:
    return not os.environ.get(NO_CACHE_ENV_VAR)


_RACY_S = 2.0  # a file changed this recently may change again within the same timestamp: hashed every time


def file_digests(paths: list[Path], memo_name: str) -> list[bytes]:
    """The SHA-256 of each file's bytes. A digest is reused from the memo ``memo_name`` only while the
    file's inode, size, mtime and ctime are unchanged (the kernel moves ctime on every write, and no
    tool can set it back), as git's index does; a file changed in the last two seconds is always read."""
    import hashlib
    import json
    import time

    memo_path = cache_root() / "digests" / f"{memo_name}.json"
    memo: dict[str, list] = {}
    if enabled():
        try:
            memo = json.loads(memo_path.read_text())
        except (OSError, ValueError):
            memo = {}
    now, out, changed = time.time(), [], False
    for path in paths:
        st = path.stat()
        stamp = [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]
        known = memo.get(str(path))
        if known is not None and known[:4] == stamp:
            out.append(bytes.fromhex(known[4]))
            continue
        digest = hashlib.sha256(path.read_bytes()).digest()
        out.append(digest)
        if now - st.st_ctime_ns / 1e9 > _RACY_S:
            memo[str(path)] = [*stamp, digest.hex()]
            changed = True
    if changed and enabled():
        try:
            memo_path.parent.mkdir(parents=True, exist_ok=True)
            temporary = memo_path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(memo))
            os.replace(temporary, memo_path)
        except OSError:
            pass
    return out
