"""Run by test_sync.py: a sync program whose Ctrl-C arrives while a bridged call blocks.

Prints the stdio server's pid, then blocks in a call until SIGINT ends the program.
"""

from __future__ import annotations

import sys

from qoder.mcp import SyncMcpBridge

config = {"command": sys.executable, "args": [sys.argv[1]]}

with SyncMcpBridge({"files": config}) as bridge:
    pid = bridge.call_tool("files", "pid", {})["content"][0]["text"]
    print(pid, flush=True)
    bridge.call_tool("files", "block", {})
