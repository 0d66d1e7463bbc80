"""A local, realistic replica of provincial news sites, served on loopback, with a manifest.

Used by tests, ``newswatch demo`` and benchmarks; product code never imports it::

    from replica import Replica
    with Replica(day=0) as r:
        r.base_urls          # {"nghean": "http://127.0.0.1:41234/"}
        r.manifest()         # [ManifestEntry(...), ...] for every URL served today
        r.set_day(1)         # new articles appear, one earlier article is edited
"""

from replica.manifest import ManifestEntry
from replica.server import Replica

__all__ = ["ManifestEntry", "Replica"]
