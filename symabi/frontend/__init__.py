"""Assembler front-end: run the real Go assembler and read its ``-S`` listing."""

from symabi.frontend.assembler import AssembleRequest, assemble, request_for
from symabi.frontend.listing import Instruction, Listing, Relocation, Symbol, parse_listing

__all__ = ["AssembleRequest", "Instruction", "Listing", "Relocation", "Symbol", "assemble", "parse_listing", "request_for"]
