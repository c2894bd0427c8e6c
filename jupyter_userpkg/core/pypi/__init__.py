"""The PyPI engine: uv for solving and installing, and the index's pages and JSON API.

It takes requirements, constraints, indexes and a snapshot date; it knows nothing of
envs, their stores or the administrator's policy (which wraps its solves from
:mod:`..policy`).
"""
