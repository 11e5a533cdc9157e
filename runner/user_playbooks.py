"""Your own playbooks without forking: ``class: mypkg.my_fade:MyFade`` or a ``playbooks_path:`` folder.

A user's playbook is a ``strategies.strategy_base.FlowbotStrategy`` subclass
(usually a ``strategies.playbook.Playbook``) with a ``Params`` model, exactly
like the built-in ones; once registered under its name in
``strategies.registry.STRATEGIES`` it gets the same validation, sweeps and
reports. Registration happens while a config is validated, so every process
that validates the config (sweep workers too) has it.

- ``class: package.module:ClassName`` imports the module (the current folder is
  on the import path) and registers the class under the entry's ``name``.
- ``playbooks_path: FOLDER`` imports every ``NAME.py`` in the folder (not
  ``test_*.py`` or ``_*.py``); each defines one playbook class, registered as
  ``NAME``.

Errors are ``ValueError`` with a message naming the file or class, so the
config validation reports them under the key that asked for them.
"""
from __future__ import annotations

import importlib
import inspect
import os
import sys
import traceback
from pathlib import Path

BUILTIN = ("december_fade", "january_snapback", "vwap_close_fade", "quarter_end_fade")


def _registry() -> dict:
    from strategies.registry import STRATEGIES

    return STRATEGIES


def register_class_entry(name: str, spec: str) -> type:
    """The ``class: module:Class`` of a strategies entry, checked and registered under ``name``."""
    if name in BUILTIN:
        raise ValueError(f"name {name!r} is a built-in playbook; give your class {spec} another name")
    cls = import_class(spec)
    return _register(name, cls, spec)


def import_class(spec: str) -> type:
    module_name, sep, class_name = str(spec).partition(":")
    if not sep or not module_name or not class_name:
        raise ValueError(f"class: expected package.module:ClassName, e.g. mypkg.my_fade:MyFade (got {spec!r})")
    _ensure_on_path(os.getcwd())
    module = _import(module_name, f"class {spec}")
    cls = getattr(module, class_name, None)
    if cls is None:
        found = [n for n, c in _playbook_classes(module)]
        raise ValueError(f"class {spec}: {module_name} has no {class_name!r}"
                         + (f"; its playbook classes: {', '.join(found)}" if found else ""))
    return cls


def load_folder(folder: str | Path) -> dict[str, type]:
    """Import and register every playbook module of ``folder``; name -> class."""
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise ValueError(f"playbooks_path: no such folder {folder} (relative paths start at the current folder "
                         f"{Path.cwd()})")
    _ensure_on_path(str(path.resolve()), first=True)
    found = {}
    for file in sorted(path.glob("*.py")):
        stem = file.stem
        if stem.startswith(("test_", "_")):
            continue
        if stem in BUILTIN:
            raise ValueError(f"playbooks_path: {file}: {stem!r} is a built-in playbook; rename the file")
        module = _import(stem, f"playbooks_path: {file}")
        if Path(getattr(module, "__file__", "") or "").resolve() != file.resolve():
            raise ValueError(f"playbooks_path: {file}: the name {stem!r} is already taken by the module "
                             f"{getattr(module, '__file__', stem)}; rename the file")
        classes = [c for _, c in _playbook_classes(module) if c.__module__ == module.__name__]
        chosen = getattr(module, "PLAYBOOK", None)
        if chosen is None:
            if len(classes) != 1:
                names = ", ".join(c.__name__ for c in classes) or "none"
                raise ValueError(f"playbooks_path: {file}: expected one playbook class (a FlowbotStrategy "
                                 f"subclass) in the file, found {names}; set PLAYBOOK = TheClass to choose")
            chosen = classes[0]
        found[stem] = _register(stem, chosen, str(file))
    return found


def _register(name: str, cls, origin: str) -> type:
    check_playbook_class(cls, origin)
    registry = _registry()
    existing = registry.get(name)
    if existing is not None and existing is not cls and _qualname(existing) != _qualname(cls):
        raise ValueError(f"{origin}: the name {name!r} is already used by {_qualname(existing)}")
    registry[name] = cls
    return cls


def check_playbook_class(cls, origin: str) -> None:
    """A usable playbook: a FlowbotStrategy with a PlaybookParams model its backtrader params match."""
    from strategies.params import PlaybookParams
    from strategies.strategy_base import FlowbotStrategy

    if not (inspect.isclass(cls) and issubclass(cls, FlowbotStrategy)):
        raise ValueError(f"{origin}: {cls!r} is not a playbook class; subclass strategies.playbook.Playbook "
                         f"(daily) or strategies.strategy_base.FlowbotStrategy")
    params = getattr(cls, "Params", None)
    if not (inspect.isclass(params) and issubclass(params, PlaybookParams)) or params is PlaybookParams:
        raise ValueError(f"{origin}: {cls.__name__} needs Params, a subclass of strategies.params.PlaybookParams "
                         f"(or DailyPlaybookParams) declaring its parameters")
    missing = [n for n in params.model_fields if not hasattr(cls.params, n)]
    if missing:
        raise ValueError(f"{origin}: {cls.__name__}.params lacks {', '.join(missing)}; write "
                         f"params = backtrader_params({params.__name__}) in the class")


def _qualname(cls) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _playbook_classes(module):
    from strategies.strategy_base import FlowbotStrategy

    return [(n, c) for n, c in vars(module).items()
            if inspect.isclass(c) and issubclass(c, FlowbotStrategy) and c is not FlowbotStrategy
            and not c.__module__.startswith("strategies.")]


def _import(module_name: str, origin: str):
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise ValueError(f"{origin}: cannot import {module_name!r} (no such module on the import path; run "
                             f"flowbot from the folder that holds it, or install it)") from None
        raise ValueError(f"{origin}: importing {module_name} failed: {exc}") from None
    except SyntaxError as exc:
        raise ValueError(f"{origin}: {exc.filename}, line {exc.lineno}: syntax error: {exc.msg}") from None
    except (Exception, SystemExit) as exc:   # the user's module raised (or exited) while importing: say where
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        raise ValueError(f"{origin}: importing {module_name} failed at {frame.filename}, line {frame.lineno}: "
                         f"{type(exc).__name__}: {exc}") from None


def _ensure_on_path(folder: str, first: bool = False) -> None:
    if folder not in sys.path:
        if first:
            sys.path.insert(0, folder)
        else:
            sys.path.append(folder)
