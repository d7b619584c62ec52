"""Testing your own code without a network: ``qoder.testing.FakeCloud`` answers every request
in-process (through respx), with a scriptable agent. In a pytest suite the plugin's
``fake_cloud`` and ``fake_cloud_router`` fixtures do the same (docs/testing.md); this program
shows the parts without pytest.
"""

from __future__ import annotations

from qoder import QoderAgentOptions, ResultMessage, SyncClient
from qoder.testing import FakeCloud, HttpFault


def capital_of(country: str, options: QoderAgentOptions) -> str:
    """The code under test: asks the agent, returns its answer."""
    with SyncClient(options) as client:
        client.query(f"What's the capital of {country}?")
        *_, result = client.receive_response()
        assert isinstance(result, ResultMessage)
        return result.result or ""


def main() -> None:
    cloud = FakeCloud()
    cloud.agent.on("Atlantis").reply("Atlantis has no capital: it is a legend.")
    base_url = "https://api.qoder.com/api/v1/cloud"  # explicit: the environment cannot redirect it
    options = QoderAgentOptions(auth="test-token", agent="agent_default", base_url=base_url)
    with cloud.mock(base_url):  # no request leaves the process
        assert capital_of("France", options) == "The capital of France is Paris."
        assert capital_of("Atlantis", options) == "Atlantis has no capital: it is a legend."
        cloud.inject(HttpFault(503, method="POST", path="/sessions/*/events"))  # retried
        assert capital_of("Japan", options) == "The capital of Japan is Tokyo."
    print("All three answers as expected, one of them after a 503 that the client retried.")


if __name__ == "__main__":
    main()
