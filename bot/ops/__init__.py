"""Operator tasks behind the command line: set-up, grants, exports, budget imports."""
