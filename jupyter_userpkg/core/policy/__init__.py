"""The administrator's policy: its rules, where they are read from, and how they judge.

The rules (:mod:`.rules`) are read from sources users cannot move (:mod:`.sources`,
:mod:`.admintrust`) and judge records by pure functions (:mod:`.enforce`); the same
judgements steer the engines' solves and check every plan before it is applied.
"""
