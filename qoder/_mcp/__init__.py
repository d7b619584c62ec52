"""MCP servers on the client side (the public names are in :mod:`qoder.mcp`).

``config`` is pure and needs no MCP SDK: the integrating code can sort and declare servers
without it. ``content``, ``server``, ``connection``, ``bridge`` and ``sync`` import the ``mcp``
package; only :mod:`qoder.mcp` imports them.
"""
