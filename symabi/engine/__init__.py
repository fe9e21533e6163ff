"""Symbolic execution of lifted trampoline code with angr, from one shared symbolic register file."""
