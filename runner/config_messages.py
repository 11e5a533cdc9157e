"""Config error messages: one line naming the file (or the ``--set`` option), the dotted key and its line.

``config/backtest.yaml: strategies[0].params.rally_pct (line 27): must be > 0 (got -1.5)``
"""
from __future__ import annotations

import difflib
from typing import Any

import yaml
from pydantic import BaseModel

from runner.inputs import shown


def format_errors(errors: list[dict], source: str, node: yaml.Node | None = None,
                  origins: dict[tuple, str] | None = None, model: type[BaseModel] | None = None) -> str:
    """The first problem on one line, ``source: dotted.path (line N): what is wrong (got X)``,
    then where the others are (``flowbot config check`` lists them the same way once this one is fixed).

    A key that ``--set`` gave is named by that option, not by a line of the file. ``model`` is the
    schema the file was checked against: an unknown key gets a "did you mean" from its keys.
    """
    error = errors[0]
    loc = _clean_loc(error["loc"])
    path = dotted(loc)
    origin = _origin_of(origins, loc) or _origin_of(origins, [*loc, *_named_key(error)])
    inside = [o for key, o in (origins or {}).items() if list(key[:len(loc)]) == list(loc)]
    if origin is None and inside:
        # A check across keys (start after end, a leg not among the instruments) that --set values took part in.
        origin = f"{source} with {', '.join(inside[:3])}" + (f" and {len(inside) - 3} more" if len(inside) > 3 else "")
    if origin:
        where = f"{origin}: {path}" if path else origin
    else:
        where = f"{source}: {path}" if path else source
        line = _line_of(node, loc)
        if line:
            where += f" (line {line})"
    message = f"{where}: {describe_error(error, loc, model)}"
    others = [dotted(_clean_loc(e["loc"])) or "the top level" for e in errors[1:]]
    if others:
        listed = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        message += f" (also {len(others)} more problem{'s' if len(others) > 1 else ''}: {listed})"
    return message


def _clean_loc(loc) -> list:
    return [p for p in loc if not (isinstance(p, str) and p.startswith("function-"))]


def _origin_of(origins: dict[tuple, str] | None, loc: list) -> str | None:
    """The ``--set`` option whose key is, or contains, or sits inside ``loc`` (the longest match)."""
    best, best_len = None, -1
    # A list of tagged items (signals: [{signal: rotation, ...}]) reports the tag after the index
    # (signals[0].rotation.sessions), where --set said signals.0.sessions: match either way.
    loc = list(loc)
    for key, origin in (origins or {}).items():
        key = list(key)
        # the tag is dropped only where the key goes on past it with the key after the tag
        untagged = [[*loc[:i], *loc[i + 1:]] for i in range(1, len(loc) - 1)
                    if isinstance(loc[i], str) and isinstance(loc[i - 1], int) and len(key) > i
                    and key[i] == loc[i + 1]]
        for candidate in (loc, *untagged):
            n = min(len(key), len(candidate))
            if n and key[:n] == candidate[:n] and len(key) > best_len:
                best, best_len = origin, len(key)
    return best


def _named_key(error: dict) -> list:
    """The key a cross-field check names first in its message (``equity: 'X' is not ...``), if any."""
    if error.get("type") != "value_error":
        return []
    head = str(error.get("ctx", {}).get("error", error.get("msg", ""))).removeprefix("Value error, ")
    key = head.split(":", 1)[0] if ":" in head else ""
    return [key] if key.replace("_", "").isalnum() else []


def dotted(loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def describe_error(error: dict, loc, model: type[BaseModel] | None = None) -> str:
    kind, ctx, given = error["type"], error.get("ctx", {}), error.get("input")
    got = f" (got {shown(given)})" if not isinstance(given, (dict, list)) else ""
    bounds = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}
    if kind in bounds:
        limit = next(iter(ctx.values()))
        limit = (str(limit) if isinstance(limit, int) and abs(limit) < 10 ** 15 else
                 f"{limit:g}" if isinstance(limit, (int, float)) else limit)
        return f"must be {bounds[kind]} {limit}{got}"
    if kind == "extra_forbidden":
        return f"unknown key{_did_you_mean(str(loc[-1]), error.get('known') or _known_keys(loc, model))}"
    if kind == "missing":
        return "required key is missing"
    if kind in ("float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"):
        what = "a whole number" if kind.startswith("int") else "a number"
        return f"expected {what}{got}"
    if kind in ("bool_parsing", "bool_type"):
        return f"expected true or false{got}"
    if kind in ("date_from_datetime_parsing", "date_parsing", "date_type", "date_from_datetime_inexact"):
        return f"expected a date like 2018-12-31{got}"
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected')}{got}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping of keys{got}"
    if kind == "list_type":
        return f"expected a list{got}"
    if kind == "too_short":
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        return f"must match {ctx.get('pattern')}{got}"
    if kind == "value_error":
        message = str(ctx.get("error", error["msg"]))
        return message
    return f"{error['msg']}{got}"


def _known_keys(loc, model: Any) -> list[str]:
    """The keys the schema ``model`` allows where ``loc`` points (none without a schema)."""
    if model is None:
        return []
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        annotation = field.annotation
        inner = getattr(annotation, "__args__", None)
        candidates = [annotation, *(inner or ())]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if model is None:
            return []
    return list(model.model_fields)


def _did_you_mean(word: str, options) -> str:
    options = list(options)
    close = difflib.get_close_matches(word, options, n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f"; expected one of {', '.join(options)}" if options else ""


def _line_of(node: yaml.Node | None, loc) -> int | None:
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
        if node is None:
            break
        line = node.start_mark.line + 1
    return line
