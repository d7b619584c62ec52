"""The sans-IO core of ``qoder``: bytes and parsed JSON in, values and effects out.

Nothing here performs I/O or imports anything above this package (no httpx, anyio, asyncio
or threading). Every ``§`` reference in this package (``§6.3``, ``§5 rule 13``, ``§7 #11``)
points at the section with that number of ``docs/protocol.md``, the wire protocol as this
library implements it. ``docs/architecture.md`` draws how the modules fit together.
"""
