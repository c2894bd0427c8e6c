"""The filtered mirror: the closure of what users asked for, judged by the policy,
written as static files (``jupyter userpkg mirror plan|sync --config FILE``).

:mod:`.config` reads the configuration, :mod:`.seeds` what was asked for,
:mod:`.pypiclosure` and :mod:`.condaclosure` solve it per target, :mod:`.plan`
compares it with the published snapshot, :mod:`.sync` writes and publishes it.
"""
