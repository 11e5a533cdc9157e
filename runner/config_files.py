"""Config files: where the shipped ones are, and reading any YAML file safely.

Shipped configs: ./config/ first, else the copy inside the installed package.
Reading (:func:`read_yaml`): the file is checked for kind and size before it is
opened, parsed once, and refused with its line for duplicate keys, impossible
dates, bad bytes and documents that expand beyond any real config.
"""
from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import yaml

from runner.errors import ConfigError
from runner.inputs import MAX_CONFIG_BYTES, check_input_file, cut, shown


def default_config(filename: str) -> Path:
    """``config/<filename>`` in the current folder if present, else the packaged one."""
    local = Path("config") / filename
    if local.exists():
        return local
    packaged = resources.files("runner") / "shipped_config" / filename
    return Path(str(packaged))


def find_config(path: str | Path | None, default_name: str) -> Path:
    """``path`` as given (default: ``config/<default_name>``); a missing ``config/...`` path that
    names a shipped file (e.g. ``config/backtest.yaml`` outside the repository) is the shipped copy."""
    if path is None:
        return default_config(default_name)
    path = Path(path)
    if path.exists() or path.is_absolute() or not path.parts or path.parts[0] != "config":
        return path
    packaged = Path(str(resources.files("runner") / "shipped_config")).joinpath(*path.parts[1:])
    if packaged.is_file():
        from loguru import logger

        logger.info(f"{path}: not in the current folder; using the shipped copy {packaged}")
        return packaged
    return path


# -- reading a YAML file -------------------------------------------------------

#: A YAML alias repeats a whole subtree: a few nested ones make a "billion laughs" file.
MAX_YAML_NODES = 200_000


#: No config nests deeper than this; PyYAML composes recursively and takes seconds to hit Python's limit.
MAX_YAML_DEPTH = 64


class RefusedScalar(yaml.constructor.ConstructorError):
    """A scalar YAML would read as something the user did not mean: an impossible date, 0777 as 511."""


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses duplicate keys, impossible dates and deep nesting, naming the lines."""

    _depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested more than {MAX_YAML_DEPTH} levels deep; a config is much flatter",
                    self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    continue
                key = key_node.value
                if key in seen and key != "<<":
                    first = seen[key]
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {shown(key)} (first on line {first + 1}, again on line "
                                    f"{key_node.start_mark.line + 1}); a second one would silently replace the first",
                        key_node.start_mark)
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as exc:
            raise RefusedScalar(
                None, None, f"impossible date {shown(node.value)} ({exc})", node.start_mark) from None


    def construct_yaml_int(self, node):
        return _plain_number(node, int)

    def construct_yaml_float(self, node):
        if ":" in node.value:   # YAML 1.1 sexagesimal: 1:30.5 would be 5430.5
            _plain_number(node, float)
        return super().construct_yaml_float(node)


#: More digits than any amount, count or id in a config (and Python refuses int() of 4,300 digits).
MAX_INT_DIGITS = 30


def _plain_number(node, kind):
    """A YAML 1.1 integer written in plain decimal; hexadecimal, octal (a leading 0), binary and sexagesimal
    (``1:30``) forms are refused with their line: ``cash: 0777`` would silently be 511, ``15:30`` 930."""
    text = node.value.replace("_", "")
    body = text.lstrip("+-")
    form = ("a sexagesimal (base 60, like a time)" if ":" in body else
            "a hexadecimal" if body[:2].lower() == "0x" else "a binary" if body[:2].lower() == "0b" else
            "an octal (a leading 0)" if len(body) > 1 and body.startswith("0") else "")
    if form:
        raise RefusedScalar(
            None, None, f"{shown(node.value)} is {form} number in YAML; write the number in plain decimal, "
                        f"or quote it if it is text", node.start_mark)
    if len(body) > MAX_INT_DIGITS:
        raise RefusedScalar(
            None, None, f"a whole number of {len(body):,} digits; no setting takes "
                        f"more than {MAX_INT_DIGITS}", node.start_mark)
    return kind(text)


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_yaml_timestamp)
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _StrictLoader.construct_yaml_float)


_QUOTED_OR_COMMENT = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"\\]|\\.)*\"|#[^\n]*")


def _check_flow_depth(text: str) -> None:
    """Refuse ``[[[[...`` before PyYAML's scanner, which is quadratic in the flow depth (seconds for a few
    thousand), sees it. Brackets inside quotes and comments do not count."""
    if text.count("[") + text.count("{") <= MAX_YAML_DEPTH:
        return
    import numpy as np

    bare = _QUOTED_OR_COMMENT.sub(lambda m: " " * len(m.group(0)), text)
    steps = np.zeros(len(bare), dtype=np.int32)
    codes = np.frombuffer(bare.encode("utf-32-le"), dtype=np.uint32)
    steps[(codes == ord("[")) | (codes == ord("{"))] = 1
    steps[(codes == ord("]")) | (codes == ord("}"))] = -1
    depth = np.cumsum(steps)
    if depth.size and depth.max() > MAX_YAML_DEPTH:
        at = int(np.argmax(depth > MAX_YAML_DEPTH))
        line = text.count("\n", 0, at)
        column = at - (text.rfind("\n", 0, at) + 1)
        raise yaml.composer.ComposerError(None, None, f"nested more than {MAX_YAML_DEPTH} levels deep; a config is "
                                                      f"much flatter", yaml.error.Mark("", at, line, column, None, None))


def parse_yaml_text(text: str):
    """(data, composed node) of a YAML document, parsed once; raises yaml.YAMLError."""
    _check_flow_depth(text)
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _check_expanded_size(node)
        return loader.construct_document(node), node
    finally:
        loader.dispose()


def _check_expanded_size(root) -> None:
    sizes: dict[int, int] = {}

    def size(node) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        sizes[id(node)] = 1   # a recursive alias counts once
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        sizes[id(node)] = total
        return total

    if size(root) > MAX_YAML_NODES:
        raise yaml.constructor.ConstructorError(
            None, None, f"the document expands to more than {MAX_YAML_NODES:,} values (aliases repeating "
                        f"large parts?); a config is much smaller", root.start_mark)


def read_yaml(path: Path, what: str = "config file") -> tuple[dict, yaml.Node | None]:
    """A YAML file's top-level mapping and its node tree (for line numbers); ConfigError otherwise."""
    check_input_file(path, what, MAX_CONFIG_BYTES, ConfigError)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}: line {line}: not a text file (byte {data[exc.start]:#04x} is not UTF-8); "
                          f"expected a YAML {what}") from None
    if "\x00" in text:
        raise ConfigError(f"{path}: not a text file (it contains NUL bytes); expected a YAML {what}")
    try:
        parsed, node = parse_yaml_text(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(f"{path}: {where}invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid YAML: nested too deeply") from None
    if parsed is None:
        raise ConfigError(f"{path}: the file is empty; expected a mapping with at least 'strategies'")
    if not isinstance(parsed, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level (got a {type(parsed).__name__})")
    return parsed, node


#: The largest JSON file flowbot reads back from a run folder (metrics.json, optimize.json): far above any it
#: writes, far below what would take the memory.
MAX_RUN_JSON_BYTES = 50 * 1024 * 1024


def read_json_file(path: Path, what: str, hint: str = "") -> dict:
    """A JSON object flowbot wrote into a run folder, read back; UserInputError naming the file if it is not
    one: a device, a FIFO or a huge file (checked before opening), bad bytes, text that is not JSON, NaN or
    Infinity (flowbot never writes them), nesting no such file has, or a top level that is not an object."""
    import json

    from runner.errors import UserInputError

    path = Path(path)
    check_input_file(path, what, MAX_RUN_JSON_BYTES)
    tail = f"; {hint}" if hint else ""

    def refuse_constant(name: str):
        raise ValueError(f"{name} is not a number flowbot writes")

    def finite(text: str) -> float:
        number = float(text)
        if number in (float("inf"), float("-inf")):
            raise ValueError(f"{cut(text, 40)} is beyond any number flowbot writes")
        return number

    try:
        data = json.loads(path.read_bytes().decode("utf-8"), parse_constant=refuse_constant, parse_float=finite)
    except OSError as exc:
        raise UserInputError(f"{path}: cannot read the {what} ({exc.strerror or exc}){tail}") from None
    except UnicodeDecodeError as exc:
        raise UserInputError(f"{path} is damaged (byte {exc.object[exc.start]:#04x} is not UTF-8)"
                             f"{tail}") from None
    except RecursionError:
        raise UserInputError(f"{path} is damaged (nested too deeply){tail}") from None
    except ValueError as exc:
        raise UserInputError(f"{path} is damaged (not valid JSON: {cut(str(exc), 120)}){tail}") from None
    if not isinstance(data, dict):
        raise UserInputError(f"{path} is damaged (expected a JSON object, got "
                             f"{'null' if data is None else type(data).__name__}){tail}")
    return data
