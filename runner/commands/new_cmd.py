"""``flowbot new playbook NAME``: a commented playbook template, a config that runs it, and its golden test."""
from __future__ import annotations

import keyword
import re
from pathlib import Path

from runner.errors import UserInputError
from runner.inputs import cut


def register(commands, add_set) -> None:
    from runner.commands.help_text import describe

    parser = commands.add_parser("new", help="start your own playbook from a commented template")
    kinds = parser.add_subparsers(dest="new_what", metavar="WHAT", parser_class=type(parser))
    kinds.required = True
    playbook = kinds.add_parser("playbook", help="a playbook template with a config and a golden test")
    playbook.add_argument("name", metavar="NAME", help="snake_case name, e.g. my_fade (the name configs use)")
    playbook.add_argument("--folder", type=Path, default=Path("playbooks"), metavar="DIR",
                          help="where to write the files (default: playbooks)")
    playbook.add_argument("--no-golden", action="store_true",
                          help="do not run the playbook now to record its golden trades")
    playbook.set_defaults(handler=run)
    describe(playbook, "new playbook")


def run(args) -> int:
    paths = write_playbook(args.name, args.folder)
    for key in ("playbook", "config", "test"):
        print(f"wrote {paths[key]}")
    if not args.no_golden:
        count = record_golden(args.name, args.folder)
        print(f"wrote {paths['golden']} ({count} trades on the sample; the golden test compares with it)")
    print(f"next: flowbot backtest -c {paths['config']}   and   pytest {paths['test']}")
    return 0


def check_name(name: str) -> str:
    from runner.user_playbooks import BUILTIN

    if not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", name) or keyword.iskeyword(name):
        raise UserInputError(f"new playbook {cut(name)}: expected a snake_case name such as my_fade "
                             f"(1 to 64 lower-case letters, digits, underscores; starting with a letter)")
    if name in BUILTIN or name.startswith("test_"):
        raise UserInputError(f"new playbook {name}: that name is taken ({', '.join(BUILTIN)} are built in; "
                             f"test_* names are for tests)")
    taken = _module_named(name)
    if taken is not None:   # playbooks_path imports NAME.py as the module NAME: it could never load
        raise UserInputError(f"new playbook {name}: that name is taken by the module {cut(taken, 100)}, so "
                             f"{name}.py could not be imported as {name}; choose another name, "
                             f"e.g. my_{name}")
    return name


def _module_named(name: str) -> str | None:
    """Where the standard library's, an installed package's or flowbot's own module ``name`` is, else None.

    Only those places are searched: not folders an earlier playbooks_path put on the path (in this process)."""
    import importlib.machinery
    import site
    import sys
    import sysconfig

    import runner

    if name in sys.builtin_module_names or name in sys.stdlib_module_names:
        return name
    places = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], *site.getsitepackages(),
              str(Path(runner.__file__).resolve().parents[1])}
    try:
        spec = importlib.machinery.PathFinder.find_spec(name, sorted(places))
    except (ImportError, ValueError):
        return None
    return None if spec is None else (spec.origin or name)


def class_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_") if part)


def write_playbook(name: str, folder: Path) -> dict[str, Path]:
    """NAME.py, NAME.yaml and test_NAME.py in ``folder``; existing files are never overwritten."""
    from runner.commands import playbook_template as template

    check_name(name)
    folder = Path(folder)
    shown = folder.as_posix()
    paths = {"playbook": folder / f"{name}.py", "config": folder / f"{name}.yaml",
             "test": folder / f"test_{name}.py", "golden": folder / f"{name}.golden.csv"}
    taken = [str(p) for p in paths.values() if p.exists()]
    if taken:
        raise UserInputError(f"new playbook {name}: {', '.join(taken)} already exist(s); choose another name "
                             f"or remove them")
    if folder.exists() and not folder.is_dir():
        raise UserInputError(f"--folder {cut(shown)}: exists and is not a folder")
    values = {"name": name, "cls": class_name(name), "folder": shown}
    texts = {key: getattr(template, key.upper()).format(**values) for key in ("playbook", "config", "test")}
    made = [p for p in (folder, *folder.parents) if not p.exists()]
    written: list[Path] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for key, text in texts.items():
            paths[key].write_text(text, encoding="utf-8")
            written.append(paths[key])
    except OSError as exc:   # /proc, /sys, a read-only or full disk: say so, and leave nothing half-made
        for path in written:
            path.unlink(missing_ok=True)
        for path in made:
            try:
                path.rmdir()
            except OSError:
                pass
        raise UserInputError(f"new playbook {name}: cannot write its files into --folder {cut(shown)} "
                             f"({exc.strerror or exc}); choose a folder you can write to") from None
    return paths


def record_golden(name: str, folder: Path) -> int:
    """Run the new playbook on the sample once and write NAME.golden.csv (what its test compares)."""
    from runner.api import backtest

    folder = Path(folder).resolve()
    run = backtest(folder / f"{name}.yaml", set={"playbooks_path": str(folder)})
    columns = ["entry_time", "entry_price", "exit_time", "exit_price", "size", "pnl", "exit_reason"]
    run.trades[columns].to_csv(folder / f"{name}.golden.csv", index=False)
    return len(run.trades)
