"""The default agent's answers: reproducible, and sensible for the SDK's two-turn example.

"What's the capital of France?" → "The capital of France is Paris."; then "What's the
population of that city?" → Paris's population (the city is taken from the conversation).
Small sums are computed; anything else gets a generic reply that depends only on the prompt.
"""

from __future__ import annotations

import re

from qoder.testing._script import Reply, Step, TurnContext

__all__ = ["default_reply", "default_steps"]

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


def default_reply(context: TurnContext) -> str:
    """The default agent's reply text for a turn (a pure function of prompt and history)."""
    prompt = context.prompt.strip()
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


def default_steps(context: TurnContext) -> list[Step]:
    """One model request answering with :func:`default_reply`, one message per sentence."""
    return [Reply(*_sentences(default_reply(context)))]
