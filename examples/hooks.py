"""Hooks for a cloud agent, as written for the official qoder-agent-sdk: a PreToolUse hook
that vets shell commands, a PostToolUse hook that audits every tool result, and a
UserPromptSubmit hook that adds instructions. Runs in a plain script (SyncClient).

Run it against ``python -m qoder serve`` with the environment that command prints (or a real
account: QODER_PERSONAL_ACCESS_TOKEN and QODER_AGENT_ID).
"""

from __future__ import annotations

from typing import Any

from qoder import (
    AssistantMessage,
    HookMatcher,
    QoderAgentOptions,
    SyncClient,
    TextBlock,
    access_token_from_env,
)


def check_command(hook_input: dict[str, Any], tool_use_id: str | None, context: Any) -> Any:
    """PreToolUse on Bash: no deleting. Every Bash call reaches this hook, even on an agent
    whose policy would have run it without asking."""
    command = hook_input["tool_input"].get("command", "")
    if command.startswith("rm "):
        return {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "deny",
                "permissionDecisionReason": "Deleting files is not allowed.",
            }
        }
    return {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "allow"}}


def audit(hook_input: dict[str, Any], tool_use_id: str | None, context: Any) -> Any:
    """PostToolUse on every tool: log what ran."""
    print(f"[audit] {hook_input['tool_name']} {hook_input['tool_input']}")
    return {}


def add_instructions(hook_input: dict[str, Any], tool_use_id: str | None, context: Any) -> Any:
    """UserPromptSubmit: instructions for this turn, sent as a system.message."""
    return {
        "hookSpecificOutput": {
            "hookEventName": "UserPromptSubmit",
            "additionalContext": "Keep answers short.",
        }
    }


def ask(client: SyncClient, prompt: str) -> None:
    print(f"User: {prompt}")
    client.query(prompt)
    for message in client.receive_response():
        if isinstance(message, AssistantMessage):
            for block in message.content:
                if isinstance(block, TextBlock):
                    print(f"Assistant: {block.text}")


def main() -> None:
    options = QoderAgentOptions(
        auth=access_token_from_env(),
        hooks={
            "PreToolUse": [HookMatcher(matcher="Bash", hooks=[check_command])],
            "PostToolUse": [HookMatcher(hooks=[audit])],
            "UserPromptSubmit": [HookMatcher(hooks=[add_instructions])],
        },
    )
    with SyncClient(options) as client:
        ask(client, "run the command `rm -rf build`")
        ask(client, "run the command `ls`")
        ask(client, "What are your instructions?")


if __name__ == "__main__":
    main()
