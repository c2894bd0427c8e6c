"""The command layer shared by every front end: grammar, dispatch, rendering.

Kept empty so that importing one of its modules costs only that module: the
grammar must load without the core service or any engine (``--help``).
"""
