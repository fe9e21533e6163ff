"""Errors that reach the user as one clear message and exit code 2, never a traceback."""


class SymabiError(Exception):
    """Bad input or a broken environment: the CLI prints the message and exits 2."""


class ToolchainError(SymabiError):
    """The Go toolchain is missing, broken, or cannot run."""


class AssemblerError(SymabiError):
    """The Go assembler rejected a source file; the message carries its file:line diagnostics."""


class CaseError(SymabiError):
    """A case folder or case file is missing, malformed, or names something that does not exist."""
