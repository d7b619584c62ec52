"""Every public constructor and option fed values of the wrong type (hypothesis): the answer
is a clear error naming what was wrong, a ``ConfigurationError``, ``TypeError`` or
``ValueError``, raised where the value was given; never an ``AttributeError``, ``KeyError``
or the like from inside the library, and never a crash later at ``connect()``."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import attrs
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qoder import (
    AgentSpec,
    AsyncClient,
    AsyncCloud,
    Cloud,
    ConfigurationError,
    EnvironmentSpec,
    PermissionResultAllow,
    PermissionResultDeny,
    QoderAgentOptions,
    SyncClient,
    tool,
)
from qoder.options import resolve_options

CLEAR = (ConfigurationError, TypeError, ValueError)
"""What a wrong value may raise."""

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.binary(max_size=8),
    st.lists(st.one_of(st.integers(), st.text(max_size=5), st.none()), max_size=3),
    st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=5)), max_size=3),
    st.sampled_from([object(), print, httpx.Client, {"type": "preset"}, [print], (1, 2)]),
)

OPTION_NAMES = [field.name for field in attrs.fields(QoderAgentOptions)]


def refusal(make: Callable[[], object]) -> BaseException | None:
    """The clear error ``make()`` raised (with a message), or ``None`` if it accepted; any
    other exception propagates and fails the test."""
    caught: BaseException | None = None
    try:
        make()
    except CLEAR as error:
        caught = error
    assert caught is None or str(caught), "an error without a message"
    return caught


@settings(max_examples=30, deadline=None)
@given(value=values)
@pytest.mark.parametrize("name", OPTION_NAMES)
def test_each_option_takes_or_refuses_any_value_clearly(name: str, value: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an accepted CLI-only option warns: not under test
        built: list[QoderAgentOptions] = []
        if refusal(lambda: built.append(QoderAgentOptions(**{name: value}))) is not None:
            return
        # accepted when built: resolving it must not fail obscurely either
        complete = attrs.evolve(built[0], auth="pat-" + "x" * 24, agent="agent_01")
        refusal(lambda: resolve_options(complete, {}))


@settings(max_examples=200, deadline=None)
@given(value=values, which=st.sampled_from(["name", "model", "system", "tools", "metadata"]))
def test_agent_spec_refuses_wrong_types_clearly(which: str, value: Any) -> None:
    fields: dict[str, Any] = {"name": "agent"}
    fields[which] = value
    refusal(lambda: AgentSpec(**fields))


@settings(max_examples=200, deadline=None)
@given(value=values, which=st.sampled_from(["name", "networking", "metadata"]))
def test_environment_spec_refuses_wrong_types_clearly(which: str, value: Any) -> None:
    refusal(lambda: EnvironmentSpec(**{which: value}))


@settings(max_examples=200, deadline=None)
@given(name=values, description=values, schema=values)
def test_tool_refuses_wrong_arguments_clearly(name: Any, description: Any, schema: Any) -> None:
    async def handler(args: dict[str, Any]) -> dict[str, Any]:
        return {"content": []}

    refusal(lambda: tool(name, description, schema)(handler))


@settings(max_examples=100, deadline=None)
@given(options=values, http_client=values)
@pytest.mark.parametrize("client_class", [SyncClient, AsyncClient, Cloud, AsyncCloud])
def test_clients_refuse_wrong_arguments_when_made(
    client_class: type, options: Any, http_client: Any
) -> None:
    error = refusal(lambda: client_class(options, http_client=http_client))
    if options is not None and not isinstance(options, QoderAgentOptions):
        assert error is not None, f"{client_class.__name__}({options!r}) was accepted"
    if http_client is not None:  # none of these values is an httpx client of either kind
        assert error is not None


@settings(max_examples=200, deadline=None)
@given(value=values)
def test_permission_results_take_any_value_without_crashing(value: Any) -> None:
    refusal(lambda: PermissionResultAllow(updated_input=value))
    refusal(lambda: PermissionResultDeny(message=value))
    refusal(lambda: PermissionResultDeny(interrupt=value))
