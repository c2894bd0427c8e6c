"""``search`` and ``info``: package names and details on PyPI and the conda channels.

:mod:`.facade` is the one entry (both sources, ranking, suggestions); :mod:`.conda`
reads names and records from the conda engine's gateway.  The name rules
(:mod:`..namematch`) and the records answered (:mod:`..searchrecords`) stay beside the
engines, which read index pages into them.
"""
