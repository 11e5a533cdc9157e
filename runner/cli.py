"""The ``flowbot`` command line: parse arguments, call the library, map errors to exit codes.

Exit codes: 0 success; 2 bad input (config, data, arguments) with one clear
message; 3 the gateway could not be reached or refused us; 1 anything
unexpected (traceback in logs/flowbot-crash.log of the current folder);
130 interrupted (Ctrl-C, SIGINT or SIGTERM).

Imports are lazy: building the parser loads argparse and the subcommands'
argument modules only; a command's implementation (pandas, backtrader, the
simulator, the IB libraries) is imported when that command runs, so
``flowbot --help`` starts in a fraction of a second.
"""
from __future__ import annotations

import argparse
import datetime as dt
import errno
import re
import sys
import time
import warnings
from pathlib import Path

from runner.commands.output import OutputError
from runner.inputs import has_control_characters
from runner.cli_args import add_set, iso_date, port_number, seconds
from runner.errors import ConfigError, FlowbotError, UserInputError

EXIT_OK, EXIT_UNEXPECTED, EXIT_BAD_INPUT, EXIT_GATEWAY = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors through our exit code 2 with one line."""

    def error(self, message):
        raise UserInputError(f"{self.prog}: {message} (see {self.prog} --help)")

    def parse_known_args(self, args=None, namespace=None):
        # argparse drops a value of '--' (its end-of-options mark): --duration=-- would mean no --duration.
        for arg in sys.argv[1:] if args is None else args:
            if isinstance(arg, str) and arg.startswith("--") and arg.partition("=")[2] == "--":
                self.error(f"argument {arg.partition('=')[0]}: expected a value (got '--')")
        return super().parse_known_args(args, namespace)

    def _get_value(self, action, arg_string):
        # Path('') is '.': an empty --out, --folder or --data would quietly mean the current folder.
        if action.type is Path and isinstance(arg_string, str) and not arg_string.strip():
            raise argparse.ArgumentError(action, f"expected a path (got {arg_string!r})")
        if action.type is Path and isinstance(arg_string, str) and has_control_characters(arg_string):
            # NUL: the OS refuses such a name wherever it is first used (a crash, exit 1, instead of this message);
            # a newline or tab: a folder or file nobody can name in a shell or a log line
            raise argparse.ArgumentError(action, f"expected a path without NUL bytes or other control characters "
                                                 f"(got {arg_string[:60]!r})")
        return super()._get_value(action, arg_string)


def build_parser() -> argparse.ArgumentParser:
    from runner.commands.help_text import describe
    from runner.commands.output import add_json, add_quiet

    parser = _Parser(prog="flowbot", description="Year-end rebalancing playbooks: backtest, tune, paper trade.")
    parser.add_argument("--version", action="version", version=f"flowbot {_version()}")
    add_quiet(parser, top=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    backtest = commands.add_parser("backtest", help="run a backtest and write a run folder")
    backtest.add_argument("-c", "--config", type=Path, help="run config (default: config/backtest.yaml)")
    backtest.add_argument("--strategy", action="append", default=[], metavar="NAME",
                          help="run only this playbook of the config, by name or label (repeatable); "
                               f"the built-in playbooks: {', '.join(_builtin_playbooks())} (flowbot list)")
    backtest.add_argument("--data", type=Path, metavar="PATH",
                          help="CSV or Parquet bars replacing the selected playbooks' instrument data")
    _add_data_format(backtest)
    backtest.add_argument("--start", type=iso_date, metavar="YYYY-MM-DD", help="first session")
    backtest.add_argument("--end", type=iso_date, metavar="YYYY-MM-DD", help="last session")
    add_set(backtest)
    backtest.add_argument("--out", type=Path, metavar="DIR", help="run folder (new or empty)")
    add_json(backtest, "the figures (metrics.json and the run folder)")
    backtest.set_defaults(handler=_backtest)

    paper = commands.add_parser("paper", help="paper trade through IB Gateway (paper account only)")
    paper.add_argument("-c", "--config", type=Path, help="run config (default: config/paper.yaml)")
    add_set(paper)
    paper.add_argument("--duration", type=seconds, metavar="S", help="stop after this many seconds")
    paper.add_argument("--out", type=Path, metavar="DIR", help="run folder (new or empty)")
    paper.add_argument("--status-port", type=port_number, metavar="PORT",
                       help="serve a read-only status page on http://127.0.0.1:PORT/ (e.g. 8765)")
    paper.set_defaults(handler=_paper)

    config = commands.add_parser("config", help="check or show a config file (run config or sweep)")
    config_commands = config.add_subparsers(dest="config_command", metavar="ACTION", parser_class=_Parser)
    config_commands.required = True
    for action, text in (("check", "validate a run config or a sweep file"),
                         ("show", "print the resolved config")):
        sub = config_commands.add_parser(action, help=text)
        sub.add_argument("file", type=Path, nargs="?", metavar="FILE",
                         help="run config or sweep file (default: config/backtest.yaml)")
        sub.add_argument("-c", "--config", type=Path, dest="config_file", metavar="FILE",
                         help="the same as FILE, as the other commands take it")
        add_set(sub)
        sub.set_defaults(handler=_config_check if action == "check" else _config_show)
        describe(sub, f"config {action}")

    _add_optional_commands(commands)
    for name, sub in commands.choices.items():
        describe(sub, name)
        _add_quiet_to_leaves(sub)
    return parser


def _add_quiet_to_leaves(parser: argparse.ArgumentParser) -> None:
    """-q/--quiet on every command that runs something (config check, new playbook, backtest, ...)."""
    from runner.commands.output import add_quiet

    nested = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not nested:
        add_quiet(parser)
    for action in nested:
        for sub in action.choices.values():
            _add_quiet_to_leaves(sub)


def _builtin_playbooks() -> tuple[str, ...]:
    from runner.user_playbooks import BUILTIN   # a name list: no backtrader import for --help

    return BUILTIN


def _add_data_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--date-format", metavar="FORMAT",
                        help="strftime format of the data file's dates, e.g. '%%d/%%m/%%Y', or epoch / epoch_ms "
                             "(data.date_format)")
    parser.add_argument("--delimiter", metavar="CHAR", help="CSV field separator, e.g. ';' or '\\t' (data.delimiter)")
    parser.add_argument("--columns", metavar="OURS=THEIRS,...",
                        help="the file's column names, e.g. time=Timestamp,close=Last (data.columns)")


def _add_optional_commands(commands) -> None:
    """Commands whose modules register themselves (optimize, fetch, gateway-sim, list, show, ...)."""
    from runner import command_registry

    for register in command_registry.registrars():
        register(commands, add_set)


def _version() -> str:
    from runner import __version__

    return __version__


# -- commands ----------------------------------------------------------------

def _backtest(args) -> int:
    from runner.backtest.selection import apply_data_format, select_for_backtest
    from runner.commands.output import console_level
    from runner.config_files import find_config
    from runner.log_setup import configure_console
    from runner.report.run_folder import check_out_folder

    started = time.perf_counter()
    check_out_folder(args.out)   # before the config, the data and the figure process: a taken --out is refused at once
    path = find_config(args.config, "backtest.yaml")
    cfg = select_for_backtest(path, args.overrides, args.strategy, args.data, args.start, args.end)
    apply_data_format(cfg, args.date_format, args.delimiter, args.columns)
    configure_console(console_level(args, cfg.logging.level))
    from runner.report import figure_server

    # The report's figures are made by a process started now: it loads matplotlib while the run goes on.
    with figure_server.started(cfg.output.report):
        return _run_and_write(args, cfg, path, started)


def _run_and_write(args, cfg, path: Path, started: float) -> int:
    from runner.backtest.run import run_backtest, write_backtest_outputs
    from runner.cli_process import long_lived_so_far
    from runner.commands.output import print_json, quiet, wants_json
    from runner.config import resolved_yaml
    from runner.log_setup import add_run_log
    from runner.data.load import load_run_bars
    from runner.report.run_folder import create_run_folder, discard_run_folder, existing_folder
    from runner.report.summary import print_backtest_summary, run_notes
    from loguru import logger

    bars = load_run_bars(cfg)   # bad data fails here, before anything is written
    long_lived_so_far()   # the code and the bars live until the end: out of the collector's passes
    existed = existing_folder(args.out or cfg.output.folder)
    folder = create_run_folder(cfg.output.folder, "backtest", cfg.name, args.out)
    sink = add_run_log(folder / "run.log", cfg.logging.file_level)
    finished = False
    try:
        logger.info(f"backtest {cfg.name}: config {path}, run folder {folder}")
        config_yaml = resolved_yaml(cfg)   # made once: the log's, the checksum's and config.resolved.yaml's
        logger.debug("effective config:\n" + config_yaml)
        ahead: dict[str, str] = {}
        result = run_backtest(cfg, bars, on_playbook=_charts_ahead(ahead) if cfg.output.report else None,
                              config_yaml=config_yaml)
        notes = run_notes(cfg)
        write_backtest_outputs(folder, cfg, result, notes, charts_ahead=ahead)
        finished = True
        if wants_json(args):
            print_json({"folder": str(folder), **result.metrics})
        elif quiet(args):
            print(folder)
        else:
            print_backtest_summary(cfg, result, folder, notes)
        logger.info(f"done in {time.perf_counter() - started:.2f} s (engine {result.seconds:.2f} s)")
    finally:
        logger.remove(sink)
        if not finished:   # a backtest can be run again: no folder with only run.log is left behind
            discard_run_folder(folder, existed)
    return EXIT_OK


def _charts_ahead(ahead: dict[str, str]):
    """``run_backtest``'s ``on_playbook``: each playbook's trade charts handed to the figure process (when
    one runs) as its run ends, into ``ahead``."""
    def on_playbook(strategy, trades, orders, bars) -> None:
        from runner.report.html import trade_charts_ahead

        placeholder = trade_charts_ahead(strategy, trades, orders, bars)
        if placeholder is not None:
            ahead[strategy.display_name] = placeholder
    return on_playbook


def _paper(args) -> int:
    from runner.commands.output import console_level
    from runner.config import load_config
    from runner.config_files import find_config
    from runner.log_setup import configure_console
    from runner.paper.session import run_paper

    path = find_config(args.config, "paper.yaml")
    cfg = load_config(path, args.overrides)
    configure_console(console_level(args, cfg.logging.level))
    return run_paper(cfg, duration=args.duration, out_dir=args.out, status_port=args.status_port)


def _config_check(args) -> int:
    from runner.commands.config_files_cmd import check

    return check(_config_path(args), args.overrides)


def _config_show(args) -> int:
    from runner.commands.config_files_cmd import show

    return show(_config_path(args), args.overrides)


def _config_path(args) -> Path:
    from runner.config_files import find_config

    if args.file is not None and args.config_file is not None and args.file != args.config_file:
        raise UserInputError(f"config: give the file once (FILE {args.file} or -c {args.config_file})")
    return find_config(args.file or args.config_file, "backtest.yaml")


# -- entry point -------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    with _console_guards():
        try:
            args = _parse(argv)
            from runner.inputs import COMMAND_OPTIONS

            COMMAND_OPTIONS.set(frozenset(vars(args)))   # messages name only the options this command has
            from runner.log_setup import configure_console   # loguru: only once a command runs

            configure_console("WARNING" if getattr(args, "quiet", False) else "INFO")
            code = args.handler(args)
            sys.stdout.flush()   # a failed write surfaces here, not in the interpreter's flush at exit
        except KeyboardInterrupt as exc:
            print(f"interrupted{_kept_folder(exc)}", file=sys.stderr)
            return 130
        except FlowbotError as exc:
            # Every message names file/key/row itself: print it as it is, on one line.
            label = "error" if isinstance(exc, (UserInputError, ConfigError)) else "failed"
            print(f"{label}: {_one_line(str(exc))}{_kept_folder(exc)}", file=sys.stderr)
            if exc.exit_code == EXIT_UNEXPECTED:
                from loguru import logger

                logger.opt(exception=exc).debug("traceback")
            return exc.exit_code
        except SystemExit as exc:   # --help, --version
            failed = _output_failed()
            if failed is not None:
                print(f"failed: {failed.strerror}", file=sys.stderr)
                return EXIT_UNEXPECTED
            return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_UNEXPECTED
        except OutputError as exc:
            print(f"failed: {exc.strerror}", file=sys.stderr)
            return EXIT_UNEXPECTED
        except OSError as exc:
            return _os_error(exc)
        except RecursionError as exc:
            return _crash(exc, "input nested too deeply")
        except MemoryError as exc:
            return _crash(exc, "out of memory")
        except Exception as exc:  # a bug: one line on the console, the traceback in the crash log
            return _crash(exc)
    return code


def _output_failed():
    """The :class:`OutputError` of stdout, if writing it failed (argparse's --help swallows it), else None."""
    try:
        sys.stdout.flush()
    except OutputError as exc:
        return exc
    return getattr(sys.stdout, "failed", None)


def _kept_folder(exc: BaseException) -> str:
    """Where a command that failed part-way kept what it wrote (``exc.run_folder``, set by that command)."""
    folder = getattr(exc, "run_folder", None)
    return f" (what it wrote until then is kept in {folder})" if folder is not None else ""


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """The arguments; one left over is named with the command it was given to (not as flowbot's own)."""
    args, extra = build_parser().parse_known_args(argv)
    if extra:
        from runner.inputs import cut

        command = " ".join(x for x in ("flowbot", getattr(args, "command", None),
                                       getattr(args, "config_command", None)) if x)
        raise UserInputError(f"{command}: unrecognized argument(s) {cut(' '.join(extra), 100)}; "
                             f"see {command} --help for what it takes")
    return args


#: A message longer than this is cut; so is any run of text without spaces longer than ``_LONG_WORD``
#: (a value, a path or a list a user gave), wherever in the code the message was made.
_MESSAGE_LIMIT, _LONG_WORD = 1000, 120


def _one_line(text: str, limit: int = _MESSAGE_LIMIT) -> str:
    from runner.inputs import cut

    text = "; ".join(part.strip() for part in text.splitlines() if part.strip())
    text = re.sub(r"(\S{%d,}?)([:;,.)]*)(?=\s|$)" % (_LONG_WORD + 1),
                  lambda word: cut(word.group(1), _LONG_WORD - 20) + word.group(2), text)
    text = cut(text, 10 ** 9)   # control characters (terminal escapes) shown, not sent to the terminal
    return text if len(text) <= limit else text[:limit] + f"... ({len(text):,} characters)"


#: An OSError about a path the user named (a missing file, a folder where a file belongs, no permission,
#: a name too long): bad input, exit 2. Anything else an OSError says (a full disk) is not the user's input.
_PATH_ERRORS = {errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.EACCES, errno.EPERM, errno.EROFS,
                errno.ENAMETOOLONG, errno.ELOOP, errno.EEXIST, errno.ENXIO}


def _os_error(exc: OSError) -> int:
    """An OSError no check caught: one line naming the path; exit 2 if it is about the path itself."""
    name = exc.filename if exc.filename is not None else ""
    if exc.errno in _PATH_ERRORS and name != "":
        print(f"error: {_one_line(f'{name}: {exc.strerror or exc}')}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        from loguru import logger

        logger.opt(exception=exc).debug("disk full")
        where = name or "writing"
        print(f"failed: {_one_line(f'{where}: {exc.strerror}')}; free some space and run again "
              f"(files are written whole or not at all)", file=sys.stderr)
        return EXIT_UNEXPECTED
    return _crash(exc)


class _console_guards:
    """While a command runs: SIGTERM (and SIGINT even from ``kill``) end it like Ctrl-C does;
    library warnings (pandas, numpy, optuna) go to the log file, never raw to the console."""

    def __enter__(self):
        import signal
        import threading

        self._signals = {}
        if threading.current_thread() is threading.main_thread():
            for number in (signal.SIGINT, signal.SIGTERM):
                self._signals[number] = signal.signal(number, _interrupt)
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("default")
        warnings.showwarning = _log_warning
        from runner.commands.output import GuardedStdout

        self._stdout = sys.stdout
        sys.stdout = GuardedStdout(sys.stdout)
        return self

    def __exit__(self, *exc):
        import signal

        self._warnings.__exit__(*exc)
        sys.stdout = self._stdout
        for number, handler in self._signals.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)
        return False


def _interrupt(number, frame):
    raise KeyboardInterrupt


def _log_warning(message, category, filename, lineno, file=None, line=None) -> None:
    from loguru import logger

    logger.opt(depth=2).debug(f"{category.__name__}: {message} ({filename}:{lineno})")


def _crash(exc: BaseException, what: str | None = None) -> int:
    from loguru import logger

    logger.opt(exception=exc).debug("unexpected error")
    where = _write_crash_log(exc)
    text = (what or f"{type(exc).__name__}: {_one_line(str(exc), 300)}") + _kept_folder(exc)
    place = f"the traceback is in {where}" if where else "no crash log could be written"
    print(f"unexpected error: {text} ({place}; please report it)", file=sys.stderr)
    return EXIT_UNEXPECTED


def _write_crash_log(exc: BaseException) -> Path | None:
    """Append the traceback to logs/flowbot-crash.log of the current folder (else the temp folder); its path."""
    import tempfile
    import traceback

    for folder in (Path("logs"), Path(tempfile.gettempdir())):
        path = (folder / "flowbot-crash.log").absolute()
        try:
            path.parent.mkdir(exist_ok=True)
            with path.open("a", encoding="utf-8") as handle:
                handle.write(f"--- {dt.datetime.now().isoformat()}\n")
                handle.write("".join(traceback.format_exception(exc)))
            return path
        except OSError:
            continue
    return None


if __name__ == "__main__":
    sys.exit(main())
