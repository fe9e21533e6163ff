"""``symabi check``: a Go module's own host-facing trampolines, marked in the source (docs/check.md)."""
