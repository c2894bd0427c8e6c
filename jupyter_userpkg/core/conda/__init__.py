"""The conda engine: py-rattler's gateway, resolvo solver and linker, with plain inputs.

It takes specs, channel URLs, constraints and a snapshot date, and answers records;
it knows nothing of envs, their stores or the administrator's policy (which wraps
its solves from :mod:`..policy`).
"""
