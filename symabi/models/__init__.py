"""Named, documented models: what symbolic execution assumes where it cannot see code.

A model is data plus one small function. Its ``assumptions`` are printed with every verdict, so a
reviewer can see what a PROVED was proved under.
"""

from symabi.models import check_callees, entry_aapcs64, entry_go, entry_sysv, go_arm64, host_callee  # noqa: F401 - register their conventions and models
from symabi.models.entry import ENTRY_CONVENTIONS, EntryConventionModel
from symabi.models.go_abi0 import CALLEE_MODELS, CalleeModel

__all__ = ["CALLEE_MODELS", "ENTRY_CONVENTIONS", "CalleeModel", "EntryConventionModel"]
