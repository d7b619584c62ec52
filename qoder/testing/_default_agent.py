"""The default agent's answers: reproducible, and sensible for the SDK's examples.

"What's the capital of France?" → "The capital of France is Paris."; then "What's the
population of that city?" → Paris's population (the city is taken from the conversation).
Small sums are computed; anything else gets a generic reply that depends only on the prompt.

It also shows what a session is configured with (docs/protocol.md §8): it names its model
("what model are you?"), quotes its system prompt and the turn's ``system.message``
("what are your instructions?"), calls the client's custom tools and the built-in tools the
prompt asks for (:mod:`qoder.testing._default_tools`), and thinks on request ("think for 5
seconds", or ``FakeCloud(think_seconds=…)`` before every answer): ``agent.thinking``, then a
wait that an interrupt or a cancel ends at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from qoder.testing._default_tools import builtin_tool_steps, custom_tool_steps, mcp_tool_steps
from qoder.testing._script import Reply, Step, Think, TurnContext, Wait

__all__ = ["default_reply", "default_steps", "instructions_reply", "model_reply"]

_CAPITALS = {
    "france": "Paris",
    "germany": "Berlin",
    "italy": "Rome",
    "spain": "Madrid",
    "portugal": "Lisbon",
    "japan": "Tokyo",
    "china": "Beijing",
    "the united kingdom": "London",
    "united kingdom": "London",
    "england": "London",
    "the united states": "Washington, D.C.",
    "united states": "Washington, D.C.",
    "canada": "Ottawa",
    "australia": "Canberra",
    "brazil": "Brasília",
    "india": "New Delhi",
    "egypt": "Cairo",
}

_POPULATIONS = {
    "Paris": "Paris has about 2.1 million inhabitants in the city proper "
    "and over 12 million in its metropolitan area.",
    "Berlin": "Berlin has about 3.9 million inhabitants.",
    "Rome": "Rome has about 2.8 million inhabitants.",
    "Madrid": "Madrid has about 3.4 million inhabitants in the city proper "
    "and about 6.9 million in its metropolitan area.",
    "Lisbon": "Lisbon has about 550,000 inhabitants in the city proper "
    "and about 2.9 million in its metropolitan area.",
    "Tokyo": "Tokyo has about 14 million inhabitants, and about 37 million "
    "in the Greater Tokyo Area.",
    "Beijing": "Beijing has about 21 million inhabitants.",
    "London": "London has about 8.9 million inhabitants.",
    "Washington, D.C.": "Washington, D.C. has about 690,000 inhabitants.",
    "Ottawa": "Ottawa has about 1 million inhabitants.",
    "Canberra": "Canberra has about 470,000 inhabitants.",
    "Brasília": "Brasília has about 2.8 million inhabitants.",
    "New Delhi": "New Delhi has about 250,000 inhabitants, and Delhi as a whole about 33 million.",
    "Cairo": "Cairo has about 10 million inhabitants, and over 22 million "
    "in its metropolitan area.",
}

_SUM = re.compile(r"(-?\d+(?:\.\d+)?)\s*([-+*/x×])\s*(-?\d+(?:\.\d+)?)")
_CAPITAL = re.compile(r"capital (?:city )?of ([a-z .,'-]+?)\s*[?.!]*$", re.IGNORECASE)


def _cities_in(text: str) -> list[str]:
    """Cities named in ``text``, in order of appearance."""
    found = [(text.find(city), city) for city in _POPULATIONS if city in text]
    return [city for _, city in sorted(found)]


def _last_city(context: TurnContext) -> str | None:
    """The city the user means: named in the prompt, else the latest one in the conversation."""
    cities = _cities_in(context.prompt)
    if cities:
        return cities[-1]
    for exchange in reversed(context.history):
        cities = _cities_in(exchange.reply) or _cities_in(exchange.prompt)
        if cities:
            return cities[-1]
    return None


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _arithmetic(prompt: str) -> str | None:
    match = _SUM.search(prompt)
    if match is None:
        return None
    left, operator, right = float(match[1]), match[2], float(match[3])
    if operator == "+":
        value = left + right
    elif operator == "-":
        value = left - right
    elif operator in "*x×":
        value = left * right
    elif right == 0:
        return "Division by zero is undefined."
    else:
        value = left / right
    return f"{match[1]} {operator} {match[3]} = {_number(value)}."


def default_reply(context: TurnContext, prompt: str | None = None) -> str:
    """The default agent's reply text for a turn (a pure function of prompt and history);
    ``prompt`` replaces the user's text (the part left once a think request is taken out)."""
    prompt = (context.prompt if prompt is None else prompt).strip()
    lowered = prompt.lower()
    capital = _CAPITAL.search(prompt)
    if capital is not None:
        country = capital[1].strip().lower()
        if country in _CAPITALS:
            name = capital[1].strip()
            name = name[0].upper() + name[1:] if not name.lower().startswith("the ") else name
            return f"The capital of {name} is {_CAPITALS[country]}."
    if "population" in lowered or "inhabitants" in lowered or "how many people" in lowered:
        city = _last_city(context)
        if city is not None:
            return _POPULATIONS[city]
        return "I don't know which city you mean. Please name it."
    sum_reply = _arithmetic(prompt)
    if sum_reply is not None:
        return sum_reply
    if re.match(r"(hello|hi|hey)\b", lowered):
        return "Hello! I am the scripted agent of the Qoder Cloud emulator. How can I help?"
    words = len(prompt.split())
    return (
        f'You said: "{prompt}". '
        f"This is a reproducible reply from the Qoder Cloud emulator ({words} words received)."
    )


def _sentences(text: str) -> list[str]:
    """Split text after sentence ends, keeping each separating space with its sentence."""
    parts = re.split(r"(?<=[.!?\"]) (?=[A-Z\"])", text)
    return [part + " " for part in parts[:-1]] + parts[-1:]


_THINK = re.compile(
    r"(?:\b(?:and|then|please)\s+)*\bthink\s+(?:about it\s+)?for\s+"
    r"(?P<seconds>\d+(?:\.\d+)?)\s*(?:seconds?|secs?|s)\b(?:\s*(?:and|then|,)\s*)*",
    re.IGNORECASE,
)
_MODEL_QUESTION = re.compile(
    r"\b(?:what|which)\s+(?:\w+\s+)?model\b|\byour model\b|\bmodel are you\b", re.I
)
_INSTRUCTIONS_QUESTION = re.compile(
    r"\bsystem prompt\b|\byour instructions\b|\bwhat were you told\b", re.I
)


def _seconds(value: float) -> str:
    text = _number(value)
    return f"{text} second" + ("" if text == "1" else "s")


def _think_request(prompt: str) -> tuple[float, str] | None:
    """(seconds, the rest of the prompt) of "think for N seconds", or ``None``."""
    match = _THINK.search(prompt)
    if match is None:
        return None
    rest = (prompt[: match.start()] + " " + prompt[match.end() :]).strip(" ,.;")
    return float(match["seconds"]), rest


def model_reply(context: TurnContext) -> str:
    """The answer to "what model are you?": the session's model, as of this model request."""
    return f'I am running on the model "{context.agent.model}".'


def instructions_reply(context: TurnContext) -> str:
    """The answer to "what are your instructions?": the system prompt and the turn's
    ``system.message`` texts, quoted."""
    system = (context.agent.system or "").strip()
    reply = f"My system prompt is: {_quote(system)}" if system else "I have no system prompt."
    extra = [text.strip() for text in context.system_messages if text.strip()]
    if extra:
        reply += " For this turn I was also told: " + _quote(" ".join(extra))
    return reply


def _quote(text: str) -> str:
    """``text`` in double quotes as the end of a sentence: ``"Be brief."`` or ``"Be brief".``"""
    return f'"{text}"' if text[-1:] in ".!?" else f'"{text}".'


def _meta_steps(context: TurnContext, prompt: str) -> list[Step] | None:
    """Answers about the session's own configuration (rendered when spoken, so a session
    update made meanwhile shows)."""
    if _INSTRUCTIONS_QUESTION.search(prompt):
        return [Reply(instructions_reply)]
    if _MODEL_QUESTION.search(prompt):
        return [Reply(model_reply)]
    return None


_Planner = Callable[[TurnContext, str], "list[Step] | None"]
_PLANNERS: tuple[_Planner, ...] = (
    _meta_steps,
    custom_tool_steps,
    mcp_tool_steps,
    builtin_tool_steps,
)


def _answer_steps(context: TurnContext, prompt: str) -> list[Step]:
    for planner in _PLANNERS:
        steps = planner(context, prompt)
        if steps is not None:
            return steps
    return [Reply(*_sentences(default_reply(context, prompt)))]


def default_steps(context: TurnContext) -> list[Step]:
    """The default agent's turn: [thinking and a wait], then the answer to the prompt (one
    ``agent.message`` per sentence of a plain reply, or a tool call and what came of it)."""
    think = _think_request(context.prompt)
    if think is None:
        steps = _answer_steps(context, context.prompt)
        if context.think_seconds > 0:
            return [Think(), Wait(context.think_seconds), *steps]
        return steps
    seconds, rest = think
    if rest:
        steps = _answer_steps(context, rest)
    else:
        steps = [Reply(f"I thought about it for {_seconds(seconds)}.")]
    return [Think(), Wait(seconds), *steps]
