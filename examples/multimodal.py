"""A prompt of several content blocks: text and an image (a tiny PNG, inline as base64).
Content blocks may be the library's classes or their JSON, as on the wire.

Run it against ``python -m qoder serve`` with the environment that command prints (or a real
account: QODER_PERSONAL_ACCESS_TOKEN and QODER_AGENT_ID).
"""

from __future__ import annotations

import base64

from qoder import (
    ImageBlock,
    QoderAgentOptions,
    ResultMessage,
    SyncClient,
    TextBlock,
    access_token_from_env,
)

# A 1x1 transparent PNG.
PIXEL = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
    )
).decode()


def main() -> None:
    with SyncClient(QoderAgentOptions(auth=access_token_from_env())) as client:
        client.query(
            [
                TextBlock("Describe this picture."),
                ImageBlock({"type": "base64", "media_type": "image/png", "data": PIXEL}),
            ]
        )
        for message in client.receive_response():
            if isinstance(message, ResultMessage):
                print(f"Done: {message.subtype}")
                print(f"Answer: {message.result}")


if __name__ == "__main__":
    main()
