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
