"""Request builders, pagination, base headers and error mapping (docs/protocol.md §2.3, §2.6,
§3)."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qoder import errors
from qoder._protocol import blocks as b
from qoder._protocol import requests as r
from qoder._protocol import status as status_map
from qoder.options import AgentSpec, EnvironmentSpec

TOKEN = "pat_SECRET_0123456789"
BUSY_TEXT = (
    "Session is currently processing a turn. Cancel the current turn or wait for completion."
)


def redact(text: str) -> str:
    return text.replace(TOKEN, "***")


def envelope(kind: str, message: str, **extra: Any) -> bytes:
    return json.dumps(
        {"type": "error", "error": {"type": kind, "message": message, **extra}}
    ).encode()


# --- APIRequest ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "safe", "keyed"),
    [
        ("GET", True, False),
        ("HEAD", True, False),
        ("POST", True, True),
        ("DELETE", True, True),
        ("PUT", False, False),
        ("PATCH", False, False),
    ],
)
def test_retry_safe_and_idempotency_key_by_method(method: str, safe: bool, keyed: bool) -> None:
    request = r.APIRequest(method, "/x")
    assert request.retry_safe is safe
    assert request.needs_idempotency_key is keyed


def test_no_body_is_distinct_from_json_null() -> None:
    assert not r.APIRequest("GET", "/x").has_body
    assert r.APIRequest("GET", "/x").encoded_body() is None
    assert r.APIRequest("POST", "/x", json=None).encoded_body() == b"null"
    assert repr(r.NO_BODY) == "NO_BODY"


def test_encoded_body_is_compact_utf8() -> None:
    request = r.APIRequest("POST", "/x", json={"text": "18°C", "n": [1, 2]})
    assert request.encoded_body() == '{"text":"18°C","n":[1,2]}'.encode()


# --- builders --------------------------------------------------------------------------------


def test_create_agent_defaults() -> None:
    request = r.create_agent(AgentSpec(name="helper"))
    assert (request.method, request.path, request.params) == ("POST", "/agents", ())
    assert request.json == {
        "name": "helper",
        "model": "ultimate",
        "tools": [{"type": "agent_toolset_20260401"}],
    }


def test_create_agent_every_field() -> None:
    custom = {"type": "custom", "name": "get_weather", "input_schema": {"type": "object"}}
    spec = AgentSpec(
        name="helper",
        model={"id": "ultimate"},
        system="Be brief.",
        description="d",
        tools=[custom],
        mcp_servers=[{"name": "github"}],
        skills=[{"id": "s"}],
        metadata={"k": "v"},
    )
    assert r.create_agent(spec).json == {
        "name": "helper",
        "model": {"id": "ultimate"},
        "description": "d",
        "system": "Be brief.",
        "tools": [custom],
        "mcp_servers": [{"name": "github"}],
        "skills": [{"id": "s"}],
        "metadata": {"k": "v"},
    }


def test_create_environment_networking_is_an_object() -> None:
    request = r.create_environment(EnvironmentSpec(name="demo"))
    assert (request.method, request.path) == ("POST", "/environments")
    assert request.json == {
        "name": "demo",
        "config": {"type": "cloud", "networking": {"type": "unrestricted"}},
    }
    with_metadata = r.create_environment(EnvironmentSpec(networking="limited", metadata={"a": "b"}))
    assert with_metadata.json["config"]["networking"] == {"type": "limited"}
    assert with_metadata.json["metadata"] == {"a": "b"}


def test_create_session_minimal_omits_every_optional() -> None:
    request = r.create_session(agent="agent_01", agent_version=None, environment_id="env_01")
    assert (request.method, request.path) == ("POST", "/sessions")
    assert request.json == {"agent": "agent_01", "environment_id": "env_01"}
    assert "null" not in json.dumps(request.json)


def test_create_session_pinned_version_and_every_optional() -> None:
    request = r.create_session(
        agent="agent_01",
        agent_version=2,
        environment_id="env_01",
        title="demo",
        metadata={"purpose": "test"},
        environment_variables={"A": "1"},
        resources=[{"type": "repo"}],
        vault_ids=("v1", "v2"),
        max_credit_cost="10.00",
    )
    assert request.json == {
        "agent": {"type": "agent", "id": "agent_01", "version": 2},
        "environment_id": "env_01",
        "title": "demo",
        "metadata": {"purpose": "test"},
        "environment_variables": {"A": "1"},
        "resources": [{"type": "repo"}],
        "vault_ids": ["v1", "v2"],
        "budget": {"type": "limit", "max_credit_cost": "10.00"},
    }


def test_create_session_keeps_explicitly_empty_values() -> None:
    request = r.create_session(
        agent="a", agent_version=None, environment_id="e", metadata={}, vault_ids=()
    )
    assert request.json == {"agent": "a", "environment_id": "e", "metadata": {}, "vault_ids": []}


@pytest.mark.parametrize(
    ("build", "method", "suffix", "body"),
    [
        (r.retrieve_session, "GET", "", r.NO_BODY),
        (r.delete_session, "DELETE", "", r.NO_BODY),
        (r.archive_session, "POST", "/archive", {}),
        (r.cancel_session, "POST", "/cancel", {}),
    ],
)
def test_session_calls(build: Any, method: str, suffix: str, body: Any) -> None:
    request = build("sess_01")
    assert request == r.APIRequest(method, f"/sessions/sess_01{suffix}", json=body)


@pytest.mark.parametrize(
    ("session_id", "encoded"),
    [
        ("sess/../x", "sess%2F..%2Fx"),
        ("a b?c#d", "a%20b%3Fc%23d"),
        ("é%", "%C3%A9%25"),
        ("~-_.", "~-_."),
    ],
)
def test_odd_ids_are_percent_encoded_with_no_safe_characters(session_id: str, encoded: str) -> None:
    assert r.retrieve_session(session_id).path == f"/sessions/{encoded}"
    assert r.send_events(session_id, [r.interrupt()]).path == f"/sessions/{encoded}/events"
    assert r.stream_events(session_id, cursor=None).path == f"/sessions/{encoded}/events/stream"


@given(st.text(min_size=1))
def test_any_id_stays_one_path_segment(session_id: str) -> None:
    path = r.list_events(session_id).path
    segments = path.split("/")
    assert segments[:2] == ["", "sessions"]
    assert segments[3:] == ["events"]
    assert urllib.parse.unquote(segments[2], errors="strict") == session_id


@pytest.mark.parametrize("bad", ["", None, 3])
def test_empty_or_non_string_ids_are_rejected(bad: Any) -> None:
    with pytest.raises(ValueError, match="session_id"):
        r.retrieve_session(bad)


def test_list_sessions_without_arguments_sends_no_query() -> None:
    assert r.list_sessions() == r.APIRequest("GET", "/sessions")


def test_list_sessions_every_parameter() -> None:
    request = r.list_sessions(
        limit=5,
        page="pg_2",
        after_id="sess_09",
        order="desc",
        include_archived=True,
        agent_id="agent_01",
        statuses=["idle", "running"],
    )
    assert request.params == (
        ("limit", "5"),
        ("page", "pg_2"),
        ("after_id", "sess_09"),
        ("order", "desc"),
        ("include_archived", "true"),
        ("agent_id", "agent_01"),
        ("statuses[]", "idle"),
        ("statuses[]", "running"),
    )


def test_false_boolean_is_sent_as_false() -> None:
    assert r.list_sessions(include_archived=False).params == (("include_archived", "false"),)


def test_a_lone_string_is_one_list_item() -> None:
    assert r.list_sessions(statuses="idle").params == (("statuses[]", "idle"),)


def test_list_events_every_parameter() -> None:
    request = r.list_events(
        "sess_01",
        limit=1,
        after_id="evt_01",
        before_id="evt_09",
        order="desc",
        page="pg",
        types=["agent.message", "session.status_idle"],
    )
    assert (request.method, request.path, request.json) == (
        "GET",
        "/sessions/sess_01/events",
        r.NO_BODY,
    )
    assert request.params == (
        ("limit", "1"),
        ("after_id", "evt_01"),
        ("before_id", "evt_09"),
        ("order", "desc"),
        ("page", "pg"),
        ("types[]", "agent.message"),
        ("types[]", "session.status_idle"),
    )


def test_stream_events_with_cursor_sends_header_and_query() -> None:
    request = r.stream_events(
        "sess_01", cursor="evt_06", event_deltas=["agent.message", "agent.thinking"]
    )
    assert request.stream
    assert (request.method, request.path, request.json) == (
        "GET",
        "/sessions/sess_01/events/stream",
        r.NO_BODY,
    )
    assert request.params == (
        ("after_id", "evt_06"),
        ("event_deltas[]", "agent.message"),
        ("event_deltas[]", "agent.thinking"),
    )
    assert request.headers == (("Accept", "text/event-stream"), ("Last-Event-ID", "evt_06"))


@pytest.mark.parametrize("cursor", [None, ""])
def test_stream_events_without_cursor(cursor: str | None) -> None:
    request = r.stream_events("sess_01", cursor=cursor)
    assert request.params == ()
    assert request.headers == (("Accept", "text/event-stream"),)


def test_send_events() -> None:
    request = r.send_events("sess_01", [r.user_message("What is 2+2?")])
    assert (request.method, request.path) == ("POST", "/sessions/sess_01/events")
    assert request.json == {
        "events": [{"type": "user.message", "content": [{"type": "text", "text": "What is 2+2?"}]}]
    }


def test_send_events_needs_an_event() -> None:
    with pytest.raises(ValueError, match="at least one"):
        r.send_events("sess_01", [])


def test_send_events_copies_the_event_dicts() -> None:
    event = r.interrupt()
    request = r.send_events("sess_01", [event])
    event["type"] = "changed"
    assert request.json == {"events": [{"type": "user.interrupt"}]}


# --- event params ----------------------------------------------------------------------------


def test_user_message_string_becomes_one_text_block() -> None:
    assert r.user_message("Hi") == {
        "type": "user.message",
        "content": [{"type": "text", "text": "Hi"}],
    }


def test_user_message_blocks_and_dicts() -> None:
    source = {"type": "base64", "media_type": "image/png", "data": "AAA"}
    content: list[b.ContentBlock | dict[str, Any]] = [
        b.TextBlock("look"),
        b.ImageBlock(source),
        b.DocumentBlock({"type": "url", "url": "https://x/doc.pdf"}, title="Doc"),
        b.RedactedBlock(),
        {"type": "text", "text": "raw"},
    ]
    assert r.user_message(content)["content"] == [
        {"type": "text", "text": "look"},
        {"type": "image", "source": source},
        {"type": "document", "source": {"type": "url", "url": "https://x/doc.pdf"}, "title": "Doc"},
        {"type": "redacted"},
        {"type": "text", "text": "raw"},
    ]


@pytest.mark.parametrize(
    "block",
    [b.ThinkingBlock("hm"), b.ToolUseBlock("evt_1", "bash", {}), b.ToolResultBlock("evt_1")],
)
def test_blocks_without_a_wire_form_are_refused(block: b.ContentBlock) -> None:
    with pytest.raises(TypeError, match=type(block).__name__):
        r.user_message([block])


def test_custom_tool_result() -> None:
    assert r.custom_tool_result("evt_24", "18°C") == {
        "type": "user.custom_tool_result",
        "custom_tool_use_id": "evt_24",
        "content": [{"type": "text", "text": "18°C"}],
    }
    assert r.custom_tool_result("evt_24", None, is_error=True) == {
        "type": "user.custom_tool_result",
        "custom_tool_use_id": "evt_24",
        "is_error": True,
    }
    assert r.custom_tool_result("evt_24", [], is_error=False)["is_error"] is False


def test_custom_tool_result_search_result_keeps_nested_block_types() -> None:
    block = b.SearchResultBlock(
        source="https://example.com", title="Ex", content=(b.TextBlock("hit"),)
    )
    assert r.custom_tool_result("evt_24", [block])["content"] == [
        {
            "type": "search_result",
            "source": "https://example.com",
            "content": [{"type": "text", "text": "hit"}],
            "title": "Ex",
        }
    ]


def test_tool_confirmation() -> None:
    assert r.tool_confirmation("evt_11", allow=True) == {
        "type": "user.tool_confirmation",
        "tool_use_id": "evt_11",
        "result": "allow",
    }
    assert r.tool_confirmation("evt_11", allow=False, deny_message="Not allowed") == {
        "type": "user.tool_confirmation",
        "tool_use_id": "evt_11",
        "result": "deny",
        "deny_message": "Not allowed",
    }
    assert "deny_message" not in r.tool_confirmation("evt_11", allow=False)
    with pytest.raises(ValueError, match="deny_message"):
        r.tool_confirmation("evt_11", allow=True, deny_message="no")


def test_interrupt() -> None:
    assert r.interrupt() == {"type": "user.interrupt"}
    assert r.interrupt(session_thread_id="th_1") == {
        "type": "user.interrupt",
        "session_thread_id": "th_1",
    }


# --- pagination ------------------------------------------------------------------------------


def pg(data: list[dict[str, str]] | None = None, **fields: Any) -> dict[str, Any]:
    """A page envelope holding one event ``e1`` unless ``data`` is given."""
    return {"data": [{"id": "e1"}] if data is None else data, **fields}


@pytest.mark.parametrize(
    ("page", "previous", "expected"),
    [
        (pg(has_more=True, next_page="pg_2", last_id="e1"), None, ("page", "pg_2")),
        (pg(has_more=False, next_page="pg_2"), None, ("page", "pg_2")),
        (pg(has_more=True, next_page="", last_id="e1"), None, ("after_id", "e1")),
        (pg(has_more=True, next_page=None, last_id="e1"), "e0", ("after_id", "e1")),
        (pg([{"id": "e1"}, {"id": "e2"}], has_more=True), None, ("after_id", "e2")),
        (pg(has_more=False, next_page=None, last_id="e1"), None, None),
        (pg([], has_more=True, next_page=None, last_id=None), None, None),
        (pg(has_more="true", last_id="e1"), None, None),
        ({}, None, None),
    ],
)
def test_next_page_params(
    page: dict[str, Any], previous: str | None, expected: tuple[str, str] | None
) -> None:
    assert r.next_page_params(page, previous) == expected


@pytest.mark.parametrize(
    ("page", "previous"),
    [
        ({"data": [{"id": "e1"}], "has_more": True, "next_page": "pg_2"}, "pg_2"),
        ({"data": [{"id": "e1"}], "has_more": True, "last_id": "e1"}, "e1"),
    ],
)
def test_a_cursor_that_does_not_advance_is_a_protocol_error(
    page: dict[str, Any], previous: str
) -> None:
    with pytest.raises(errors.ProtocolError, match="did not advance"):
        r.next_page_params(page, previous)


def test_has_more_without_any_cursor_is_a_protocol_error() -> None:
    with pytest.raises(errors.ProtocolError, match="has_more"):
        r.next_page_params({"data": [{"no": "id"}], "has_more": True}, None)


# --- base headers ----------------------------------------------------------------------------


def test_base_headers_minimal() -> None:
    assert r.base_headers(token="t", version="0.1.0", timeout_seconds=None) == {
        "Authorization": "Bearer t",
        "Accept": "application/json",
        "User-Agent": "qoder-python/0.1.0",
        "X-Qoder-Lang": "python",
        "X-Qoder-Package-Version": "0.1.0",
    }


def test_base_headers_every_option() -> None:
    headers = r.base_headers(
        token="t",
        version="1.2.3",
        timeout_seconds=600.9,
        workspace_id="ws_1",
        betas=["a-2026", "b-2026"],
        extra={"X-Custom": "1", "Accept": "application/json; q=1"},
    )
    assert headers["X-Qoder-Timeout"] == "600"
    assert headers["qoder-workspace-id"] == "ws_1"
    assert headers["x-qoder-beta"] == "a-2026,b-2026"
    assert headers["X-Custom"] == "1"
    assert headers["Accept"] == "application/json; q=1"


def test_sub_second_timeout_is_not_sent() -> None:
    assert "X-Qoder-Timeout" not in r.base_headers(token="t", version="v", timeout_seconds=0.5)


def test_header_value_is_case_insensitive() -> None:
    assert r.header_value({"X-Request-ID": "req_1"}, "x-request-id") == "req_1"
    assert r.header_value({"x-request-id": "req_1"}, "x-request-id") == "req_1"
    assert r.header_value({}, "x-request-id") is None
    assert r.header_value(None, "x-request-id") is None


# --- errors ----------------------------------------------------------------------------------


STATUS_CASES = [
    (400, errors.BadRequestError, "invalid_request_error", "Check the arguments"),
    (401, errors.AuthenticationError, "authentication_error", "QODER_PERSONAL_ACCESS_TOKEN"),
    (403, errors.PermissionDeniedError, "permission_error", "permissions"),
    (404, errors.NotFoundError, "not_found_error", "check the base URL"),  # no id in the URL
    (409, errors.ConflictError, "conflict_error", "session's state"),
    (422, errors.UnprocessableEntityError, "invalid_request_error", "not accepted"),
    (429, errors.RateLimitError, "rate_limit_error", "Retried 2 times"),
    (500, errors.InternalServerError, "api_error", "Retried 2 times"),
    (501, errors.InternalServerError, "feature_not_available", "Retried 2 times"),
    (529, errors.InternalServerError, "overloaded_error", "Retried 2 times"),
    (408, errors.APIStatusError, "timeout", "Retried 2 times"),
    (418, errors.APIStatusError, "teapot", "unexpected"),
]


def make_error(
    status: int, body: bytes, headers: dict[str, str] | None = None, *, url: str = "https://h/x"
) -> errors.APIStatusError:
    return status_map.error_from_response(
        status=status,
        headers=headers or {},
        body=body,
        method="POST",
        url=url,
        redact=redact,
        retries=2,
    )


@pytest.mark.parametrize(("status", "cls", "kind", "hint"), STATUS_CASES)
def test_error_class_and_message_with_envelope(
    status: int, cls: type[errors.APIStatusError], kind: str, hint: str
) -> None:
    error = make_error(status, envelope(kind, "Went wrong"), {"x-request-id": "req_9"})
    assert type(error) is cls
    assert error.status_code == status
    assert error.error_type == kind
    assert error.error_message == "Went wrong"
    assert error.request_id == "req_9"
    assert error.body == {"type": "error", "error": {"type": kind, "message": "Went wrong"}}
    assert (error.method, error.url) == ("POST", "https://h/x")
    assert str(error).startswith(f"{status} {kind}: Went wrong (request id req_9). ")
    assert hint in str(error)


@pytest.mark.parametrize(("status", "cls", "kind", "hint"), STATUS_CASES)
def test_error_class_and_message_with_text_body(
    status: int, cls: type[errors.APIStatusError], kind: str, hint: str
) -> None:
    error = make_error(status, b"<html>upstream broke</html>")
    assert type(error) is cls
    assert error.error_type is None
    assert error.error_message == "<html>upstream broke</html>"
    assert error.body == "<html>upstream broke</html>"
    assert error.request_id is None
    assert ": <html>upstream broke</html>. " in str(error)
    assert hint in str(error)


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://h/api/v1/cloud/sessions/sess_1", "session 'sess_1'"),
        ("https://h/api/v1/cloud/sessions/sess_1/events", "session 'sess_1'"),
        ("https://h/api/v1/cloud/agents/agent%2F1?version=2", "agent 'agent/1'"),
        ("https://h/api/v1/cloud/environments/env_1", "environment 'env_1'"),
    ],
)
def test_a_404_naming_an_id_says_what_does_not_exist(url: str, kind: str) -> None:
    error = make_error(404, envelope("not_found_error", "Not found."), url=url)
    assert f"No {kind} exists" in str(error)
    # An answer that is not the API's error envelope did not come from an endpoint at all.
    proxy = make_error(404, b"<html>Not Found</html>", url=url)
    assert "check the base URL" in str(proxy)
    assert "No " not in str(proxy)


def test_the_documented_401_message() -> None:
    error = status_map.error_from_response(
        status=401,
        headers={"x-request-id": "req_1"},
        body=envelope("authentication_error", "Invalid token"),
        method="GET",
        url="https://h/sessions",
        redact=redact,
    )
    assert str(error) == (
        "401 authentication_error: Invalid token (request id req_1). "
        "Check QODER_PERSONAL_ACCESS_TOKEN or QoderAgentOptions(auth=...)."
    )


def test_empty_body_uses_the_reason_phrase() -> None:
    error = make_error(502, b"")
    assert str(error).startswith("502 Bad Gateway. Retried 2 times")
    assert error.error_message is None
    assert error.body == ""


def test_unknown_status_without_a_phrase() -> None:
    assert str(make_error(599, b"")).startswith("599 error. ")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"x-request-id": "a", "request-id": "b"}, "a"),
        ({"request-id": "b"}, "b"),
        ({"Request-Id": "b"}, "b"),
        ({}, None),
    ],
)
def test_request_id_headers(headers: dict[str, str], expected: str | None) -> None:
    error = make_error(404, envelope("not_found_error", "nope"), headers)
    assert error.request_id == expected
    assert ("(request id" in str(error)) is (expected is not None)


def test_param_is_named_in_a_400() -> None:
    error = make_error(400, envelope("invalid_request_error", "bad", param="events"))
    assert "'events'" in str(error)


def test_tolerated_error_shapes() -> None:
    assert make_error(400, b'{"error": "plain text"}').error_message == "plain text"
    assert make_error(400, b'{"message": "top level"}').error_message == "top level"
    assert make_error(400, b"[1, 2]").error_message is None
    assert make_error(400, b"[1, 2]").body == [1, 2]


def test_long_server_text_is_shortened_in_the_message_only() -> None:
    text = "x" * 5000
    error = make_error(500, text.encode())
    assert error.body == text
    assert len(str(error)) < 1000


def test_retry_count_singular() -> None:
    error = status_map.error_from_response(
        status=503, headers={}, body=b"", method="GET", url="u", redact=redact, retries=1
    )
    assert "Retried once" in str(error)


@pytest.mark.parametrize(
    "body",
    [
        envelope("authentication_error", f"Token {TOKEN} is invalid", param=TOKEN),
        json.dumps({"error": {"message": f"x{TOKEN}"}, TOKEN: [TOKEN]}).encode(),
        f"Bearer {TOKEN} rejected".encode(),
    ],
)
def test_the_token_never_appears_in_an_error(body: bytes) -> None:
    error = make_error(
        401,
        body,
        {"x-request-id": f"req_{TOKEN}"},
        url=f"https://h/sessions?access_token={TOKEN}",
    )
    for text in (str(error), repr(error), repr(error.body), error.url or "", repr(vars(error))):
        assert TOKEN not in text


def test_the_token_never_appears_when_json_escapes_it() -> None:
    escaped = TOKEN.replace("S", "\\u0053")
    error = make_error(401, f'{{"error": {{"message": "{escaped}"}}}}'.encode())
    assert TOKEN not in repr(vars(error))
    assert TOKEN not in str(error)


# --- busy detection --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "busy"),
    [
        (409, envelope("conflict_error", BUSY_TEXT), True),
        (409, BUSY_TEXT.encode(), True),
        (409, json.dumps({"error": {"message": BUSY_TEXT}}, ensure_ascii=True).encode(), True),
        (409, envelope("conflict_error", BUSY_TEXT).replace(b"S", b"\\u0053"), True),
        (409, envelope("conflict_error", "Session is archived."), False),
        (409, envelope("conflict_error", "Idempotency key reused with another body."), False),
        (409, envelope("conflict_error", "Note: " + BUSY_TEXT).replace(b"S", b"\\u0053"), False),
        (409, b"", False),
        (409, b"not json", False),
        (400, envelope("invalid_request_error", BUSY_TEXT), False),
        (429, BUSY_TEXT.encode(), False),
    ],
)  # fmt: skip
def test_is_session_busy(status: int, body: bytes, busy: bool) -> None:
    assert status_map.is_session_busy(status, body) is busy


def test_session_busy_error() -> None:
    error = status_map.session_busy_error(
        headers={"x-request-id": "req_b"},
        body=envelope("conflict_error", BUSY_TEXT),
        method="POST",
        url="https://h/sessions/s/events",
        redact=redact,
        attempts=30,
    )
    assert type(error) is errors.SessionBusyError
    assert isinstance(error, errors.ConflictError)
    assert error.status_code == 409
    assert error.error_message == BUSY_TEXT
    assert error.request_id == "req_b"
    assert str(error).startswith(
        "409 conflict_error: Session is currently processing a turn. Cancel the current turn or "
        "wait for completion (request id req_b). "
    )
    assert "after 30 attempts" in str(error)
    assert "interrupt()" in str(error)
