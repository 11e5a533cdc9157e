"""``flowbot list``: the playbooks, one line each, and their parameters (default, valid range, sweep range)."""
from __future__ import annotations

from pathlib import Path


def register(commands, add_set) -> None:
    from runner.commands.output import add_json

    parser = commands.add_parser("list", help="the playbooks and their parameters (defaults, ranges)")
    parser.add_argument("playbook", nargs="*", metavar="PLAYBOOK", help="only these playbooks")
    parser.add_argument("-c", "--config", type=Path, metavar="FILE",
                        help="also list the config's own playbooks (class: or playbooks_path:)")
    parser.add_argument("--playbooks-path", type=Path, metavar="DIR", help="also list the playbooks in this folder")
    add_json(parser, "the playbooks and parameters")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from runner.commands.output import print_json, wants_json
    from runner.errors import ConfigError
    from strategies.registry import STRATEGIES, card_of

    if args.config is not None:
        from runner.config import load_config

        load_config(args.config)   # registers its own playbooks
    if args.playbooks_path is not None:
        from runner.user_playbooks import load_folder

        try:
            load_folder(args.playbooks_path)
        except ValueError as exc:
            raise ConfigError(f"--playbooks-path {args.playbooks_path}: {exc}") from None
    names = list(args.playbook) or list(STRATEGIES)
    unknown = [n for n in names if n not in STRATEGIES]
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], list(STRATEGIES), n=1)
        raise ConfigError(f"list: unknown playbook {unknown[0]!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
                          + f"; valid names: {', '.join(STRATEGIES)}" + _own_playbook_hint(unknown[0], args))
    described = [describe_playbook(name, card_of(name)) for name in names]
    if wants_json(args):
        print_json({"playbooks": described})
    else:
        _print(described)
    return 0


def _own_playbook_hint(name: str, args) -> str:
    """Your own playbooks are listed when flowbot is told where they are: say how."""
    if args.config is not None or args.playbooks_path is not None:
        return ""
    for folder in (Path("playbooks"), Path(".")):
        if (folder / f"{name}.py").is_file():
            return f"; {folder / (name + '.py')} is here: flowbot list {name} --playbooks-path {folder}"
    return "; your own playbooks: add -c CONFIG (class: or playbooks_path:) or --playbooks-path DIR"


def describe_playbook(name: str, cls) -> dict:
    """Name, one line, kind, direction, and every parameter of a playbook class (or a built-in's card)."""
    import sys

    from runner.user_playbooks import BUILTIN
    from strategies.registry import PlaybookCard

    if isinstance(cls, PlaybookCard):
        doc = cls.module_doc
    else:
        doc = getattr(sys.modules.get(cls.__module__), "__doc__", None) or cls.__doc__ or ""
    summary = next((line.strip() for line in doc.strip().splitlines() if line.strip()), "")
    minutes = getattr(cls, "bar_minutes", 0)
    direction = getattr(cls, "direction", None)
    return {
        "name": name,
        "summary": summary,
        "bars": f"{minutes} min" if minutes else "1 day",
        "direction": {1: "long", -1: "short"}.get(direction, "both"),
        "extra_feeds": list(getattr(cls, "extra_feeds", ())),
        "source": "built-in" if name in BUILTIN else f"{cls.__module__}:{cls.__qualname__}",
        "parameters": [describe_parameter(field_name, info) for field_name, info in cls.Params.model_fields.items()],
    }


def describe_parameter(name: str, info) -> dict:
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    explore = extra.get("explore")
    return {"name": name, "type": _type_name(info.annotation), "default": _plain(info.default),
            "valid": valid_range(info), "explore": list(explore) if explore else None,
            "description": info.description or ""}


def valid_range(info) -> str:
    """The field's constraints for people: '0 < x <= 20', 'x >= 2', 'next_open | next_close', or ''."""
    import typing

    low = high = ""
    for item in info.metadata:
        for attr, symbol, lower in (("gt", "<", True), ("ge", "<=", True), ("lt", "<", False), ("le", "<=", False)):
            value = getattr(item, attr, None)
            if value is not None:
                text = f"{value:g}" if isinstance(value, (int, float)) else str(value)
                if lower:
                    low = f"{text} {symbol} "
                else:
                    high = f" {symbol} {text}"
    choices = [a for a in _flat_args(info.annotation) if typing.get_origin(a) is typing.Literal]
    if choices:
        return " | ".join(str(v) for c in choices for v in typing.get_args(c))
    if not low and not high:
        return ""
    if not low:
        return f"x{high}"
    if not high:
        return f"x {'>' if low.endswith('< ') else '>='} {low.split()[0]}"
    return f"{low}x{high}"


def _flat_args(annotation):
    import typing

    if typing.get_origin(annotation) is typing.Literal:
        return [annotation]
    return [annotation, *(a for arg in typing.get_args(annotation) for a in _flat_args(arg))]


def _type_name(annotation) -> str:
    import typing

    if typing.get_origin(annotation) is typing.Literal:
        return "choice"
    if isinstance(annotation, type):
        return annotation.__name__
    text = str(annotation).replace("typing.", "").replace("datetime.", "")
    return text.replace("NoneType", "null")


def _plain(value):
    import datetime as dt

    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _print(described: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, width=min(Console().width, 120) if Console().is_terminal else 100)
    for playbook in described:
        feeds = f", extra feeds: {', '.join(playbook['extra_feeds'])}" if playbook["extra_feeds"] else ""
        console.print(f"[bold]{playbook['name']}[/bold] ({playbook['bars']} bars, {playbook['direction']}{feeds}; "
                      f"{playbook['source']}): {playbook['summary']}")
        table = Table(show_edge=False, pad_edge=False, box=None, header_style="dim")
        for column, width in (("parameter", None), ("default", 12), ("valid", 16), ("sweep", 11), ("meaning", None)):
            table.add_column(column, overflow="fold", max_width=width)
        for p in playbook["parameters"]:
            explore = "–" if not p["explore"] else f"{p['explore'][0]:g} to {p['explore'][1]:g}"
            default = "null" if p["default"] is None else str(p["default"])
            table.add_row(f"  {p['name']}", default, p["valid"] or "–", explore, p["description"])
        console.print(table)
        console.print()
