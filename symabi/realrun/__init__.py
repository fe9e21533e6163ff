"""Real runs: checkasm-style ground truth for Go's host→Go entry points, on the real OS ABI, here.

A harness (``harness/<entry>/`` plus ``harness/common/``) is a cgo program whose C side loads a
distinct random sentinel into every register the host ABI makes callee-saved, enters Go through the
entry point, and compares after; its Go side runs an adversarial callee. It is built against the tree
under test with the tree's own toolchain and run natively, under Wine (windows/amd64) or under qemu
user mode (linux/arm64). The stages: ``catalog`` (the data), ``build``, ``run``, ``records`` (the
frozen results), ``gate`` (what ``symabi gate --real-run`` adds).
"""
