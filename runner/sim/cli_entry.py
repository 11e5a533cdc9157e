"""Entry point for ``flowbot gateway-sim``: run the simulated gateway until Ctrl-C or SIGTERM.

Contract: ``run_gateway_sim(data_path, port, speed, **options)`` loads the
bars, starts ``SimulatedGateway`` on 127.0.0.1:port, logs where it listens,
blocks until SIGINT/SIGTERM (or, with ``exit_when_done``, the end of the
replay) and returns exit code 0. Bad data raises ``DataError`` (exit 2 in the
CLI).

``data_path`` forms:

* ``None``: the embedded daily samples as SPY (S&P 500), IWM (NASDAQ) and IEF (the bond proxy);
* ``SYM=SOURCE,SYM2=SOURCE2``: explicit symbols, each SOURCE a file or
  ``sample:NAME``;
* a directory: one symbol per ``*.csv``/``*.csv.gz``/``*.parquet`` file, named
  by the file's stem;
* one file or ``sample:NAME``: one symbol (``symbol=`` option, else the stem).

CSV files are read by the project's data loader (``Date/time,Open,High,Low,
Close,Volume`` and the other layouts it knows). ``bars=`` (a DataFrame or a
dict of them) bypasses loading.

Options (all optional): ``symbol``, ``account``, ``cash``, ``start``,
``warmup_sessions`` (default 300 when no start is given), ``partial_fills``,
``pacing``, ``session_pause``, ``bar_pause``, ``commission_per_share``,
``commission_min``, ``exit_when_done``, and ``faults``: a list of
``KIND@SECONDS[:ARG]`` strings, SECONDS of real time after start:
``drop@S``, ``restart@S:DOWN_SECONDS``, ``1100@S``, ``1101@S``, ``1102@S``,
``reject@S:N`` (next N orders), ``pacing@S:N`` (next N historical requests),
``clientid@S:ID`` (hold a client id: 326), ``stall@S[:SYMBOL]`` (real-time bars of SYMBOL, or of
every symbol, stop with no error code; a resubscription streams again).
"""
from __future__ import annotations

import datetime as dt
import errno
import math
import re
import signal
import threading
from pathlib import Path

import pandas as pd
from loguru import logger

from runner.errors import DataError, UserInputError
from runner.inputs import cut, shown

from .gateway import SimulatedGateway

_GATEWAY_OPTIONS = ("account", "cash", "start", "warmup_sessions", "partial_fills", "pacing", "session_pause",
                    "bar_pause", "commission_per_share", "commission_min", "pacing_time_scale", "wire_log", "seed")
_BAR_FILES = ("*.csv", "*.csv.gz", "*.parquet")


def parse_variations(specs: list[str]) -> dict[str, float]:
    """``--vary NAME[=P]`` values as ``SimulatedGateway(variations=...)`` takes them ("all": every one)."""
    from .variations import NAMES

    wanted: dict[str, float] = {}
    for spec in specs:
        name, _, chance = spec.partition("=")
        name = name.strip()
        try:
            p = float(chance) if chance else 1.0
        except ValueError:
            p = -1.0
        if not 0 <= p <= 1:
            raise UserInputError(f"gateway-sim --vary {spec}: P must be a number from 0 to 1")
        names = sorted(NAMES) if name == "all" else [name]
        unknown = [n for n in names if n not in NAMES]
        if unknown:
            raise UserInputError(f"gateway-sim --vary {spec}: unknown variation {name!r}; known: "
                                 f"{', '.join(sorted(NAMES))}, all")
        wanted.update({n: p for n in names})
    return wanted


def run_gateway_sim(data_path: str | None, port: int, speed: float, **options) -> int:
    _check_arguments(port, speed, options)
    bars = options.pop("bars", None)
    if isinstance(bars, pd.DataFrame):
        bars = {options.get("symbol") or "SPY": bars}
    bars = bars if bars is not None else load_bars(data_path, options.get("symbol"), options.get("delimiter"))
    if options.get("start") is not None:
        _check_start_in_data(options["start"], bars)
    settings = {k: options[k] for k in _GATEWAY_OPTIONS if options.get(k) is not None}
    if options.get("vary"):
        settings["variations"] = parse_variations(options["vary"])
    if "start" not in settings:
        settings.setdefault("warmup_sessions", 300)
    try:
        gateway = SimulatedGateway(bars, speed=speed, port=port, **settings)
    except ValueError as exc:
        raise DataError(f"gateway-sim: {exc}") from exc
    faults = [_parse_fault(gateway, spec) for spec in options.get("faults") or []]
    stop = threading.Event()
    try:
        gateway.start()
    except OSError as exc:
        gateway.stop()
        why = "it is in use (another gateway-sim or program listens there)" if exc.errno == errno.EADDRINUSE \
            else (exc.strerror or str(exc))
        raise UserInputError(f"gateway-sim --port {port}: cannot listen on 127.0.0.1:{port}: {why}; choose another "
                             f"port (0 = any free port)") from None
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    timers = [_arm(spec, delay, action) for spec, delay, action in faults]
    logger.info(f"gateway-sim: listening on 127.0.0.1:{gateway.port}, symbols {', '.join(sorted(bars))}, "
                f"clock {gateway.clock:%Y-%m-%d %H:%M}, speed {'max' if speed == 0 else speed}")
    try:
        while not stop.wait(0.2):
            if options.get("exit_when_done") and gateway.wait_until_done(0):
                break
    finally:
        for timer in timers:
            timer.cancel()
        gateway.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        logger.info("gateway-sim: stopped")
    return 0


def load_bars(data_path: str | None, symbol: str | None = None,
              delimiter: str | None = None) -> dict[str, pd.DataFrame]:
    """The dataset for the gateway, by the forms in the module docstring."""
    if data_path is None:
        # The bond leg (IEF) of the December fade is the embedded bond total-return proxy.
        return {"SPY": _read("sample:sp500"), "IWM": _read("sample:nasdaq"), "IEF": _read("sample:aaa_bond_proxy")}
    if "=" in data_path:
        pairs = []
        for item in (part.strip() for part in data_path.split(",")):
            sym, _, src = item.partition("=")
            if not item or not src.strip() or "=" not in item:
                raise DataError(f"gateway-sim --data {cut(data_path)}: {shown(item)} is not SYMBOL=SOURCE "
                                f"(e.g. SPY=spy.csv,IEF=sample:aaa_bond_proxy)")
            pairs.append((_symbol(sym, f"--data {cut(data_path)}"), src.strip()))
        return _one_each(pairs, "--data", lambda src: _read(src, delimiter))
    path = Path(data_path)
    if path.is_dir():
        files = sorted(f for pattern in _BAR_FILES for f in path.glob(pattern))
        if not files:
            raise DataError(f"gateway-sim: no bar files (*.csv, *.parquet) in {path}")
        pairs = [(_symbol(_stem(f), f"file {f}"), str(f)) for f in files]
        return _one_each(pairs, f"--data {path}", lambda src: _read(src, delimiter))
    bars = _read(data_path, delimiter)   # a missing file is named as such before its name is judged
    name = symbol if symbol is not None else (data_path.split(":", 1)[1] if data_path.startswith("sample:") else _stem(path))
    return {_symbol(name, "--symbol" if symbol is not None else f"--data {cut(data_path)}"): bars}


def _symbol(text: str, where: str) -> str:
    """An upper-case ticker: letters, digits and . - (what IB symbols are made of)."""
    name = text.strip().upper()
    if not re.fullmatch(r"[A-Z0-9][A-Z0-9.\-]{0,15}", name):
        raise DataError(f"gateway-sim {where}: symbol {shown(text)}: expected 1 to 16 letters, digits, '.' or '-' "
                        f"(e.g. SPY, BRK.B)")
    return name


def _one_each(pairs: list[tuple[str, str]], where: str, read) -> dict[str, pd.DataFrame]:
    """Symbol -> bars; a symbol given twice is refused (the second would silently replace the first)."""
    seen: dict[str, str] = {}
    for name, source in pairs:
        if name in seen:
            raise DataError(f"gateway-sim {where}: symbol {name} is given twice ({cut(seen[name])} and "
                            f"{cut(source)}); give each symbol one source")
        seen[name] = source
    return {name: read(source) for name, source in seen.items()}


def _stem(path: Path) -> str:
    return path.name.split(".")[0]


def _read(source: str, delimiter: str | None = None) -> pd.DataFrame:
    if source.startswith("sample:"):
        from runner.data.sample import load_sample

        return load_sample(source.split(":", 1)[1]).copy()
    path = Path(source)
    if not path.exists():
        raise DataError(f"gateway-sim: no such data file: {path}")
    if path.suffix == ".parquet":
        from runner.data.parquet_bars import read_parquet_bars

        return read_parquet_bars(path)
    from runner.data.files import read_csv_bars

    return read_csv_bars(path, delimiter=delimiter)


#: Bounds far above any use (a year of minutes replays in seconds at 1e6) and below the clock's overflow.
MAX_SPEED, MAX_PAUSE = 1e6, 3600.0


def _check_arguments(port, speed, options: dict) -> None:
    """Every argument checked before anything starts: one message naming the option."""
    if isinstance(port, bool) or not isinstance(port, int) or not (port == 0 or 1024 <= port <= 65535):
        raise UserInputError(f"gateway-sim --port {port}: expected 0 (any free port) or 1024 to 65535")
    from runner.ib.ib_config import LIVE_PORTS

    if port in LIVE_PORTS:   # flowbot paper refuses these ports, and a real client there expects a live account
        raise UserInputError(f"gateway-sim --port {port}: a live-trading port (IB Gateway live 4001, TWS live 7496); "
                             f"the simulator serves paper ports: use 4002 (the default) or 7497")
    if not _finite(speed) or not 0 <= speed <= MAX_SPEED:
        raise UserInputError(f"gateway-sim --speed {speed}: expected 0 (as fast as possible) or a number of "
                             f"simulated seconds per real second up to {MAX_SPEED:,.0f}")
    account = options.get("account")
    if account is not None and not re.fullmatch(r"[A-Za-z0-9]{1,32}", str(account)):
        raise UserInputError(f"gateway-sim --account {shown(account)}: expected an account id of 1 to 32 letters "
                             f"and digits (e.g. DU1234567; DU... is a paper account)")
    cash = options.get("cash")
    if cash is not None and (not _finite(cash) or not 1 <= cash <= 1e12):
        raise UserInputError(f"gateway-sim --cash {cash}: expected an amount from 1 to 1e12 (a trillion)")
    fills = options.get("partial_fills")
    if fills is not None and (isinstance(fills, bool) or not isinstance(fills, int) or not 0 <= fills <= 1000):
        raise UserInputError(f"gateway-sim --partial-fills {fills}: expected 0 to 1000")
    pause = options.get("session_pause")
    if pause is not None and (not _finite(pause) or not 0 <= pause <= MAX_PAUSE):
        raise UserInputError(f"gateway-sim --session-pause {pause}: expected 0 to {MAX_PAUSE:,.0f} seconds")
    for spec in options.get("faults") or []:
        _fault_parts(spec)
    delimiter = options.get("delimiter")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in "\r\n\"0"):
        raise UserInputError(f"gateway-sim --delimiter {shown(delimiter)}: expected one character, e.g. ';' or '\\t'")
    if options.get("start") is not None:
        _start_time(options["start"])


_START_FORM = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})?)?")


def _start_time(start) -> dt.datetime:
    """``--start`` as a date or an ISO date and time (New York time unless it carries an offset)."""
    try:
        if isinstance(start, dt.datetime):
            return start
        text = str(start).strip()
        # fromisoformat alone takes '2018-12-0111111' as 2018-12-01 11:11:11.1: only the written forms pass
        if not _START_FORM.fullmatch(text):
            raise ValueError(text)
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise UserInputError(f"gateway-sim --start {shown(start)}: expected a date YYYY-MM-DD or a date and "
                             f"time YYYY-MM-DD HH:MM (New York time)") from None


def _check_start_in_data(start, bars: dict[str, pd.DataFrame]) -> None:
    """A start outside the bars replays nothing (before: years of empty sessions; after: nothing at all)."""
    stamp = _start_time(start)
    frames = [frame for frame in bars.values() if len(frame)]
    if not frames:
        return
    first = min(frame.index[0] for frame in frames).date()
    last = max(frame.index[-1] for frame in frames).date()
    if not first <= stamp.date() <= last:
        raise UserInputError(f"gateway-sim --start {shown(start)}: outside the data, which covers {first} to {last}; "
                             f"give a start in that range (or leave --start out: {300} sessions in)")


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


#: Fault kind -> (type of its argument, default, what the argument is).
_FAULT_ARGS = {"drop": (None, None, ""), "1100": (None, None, ""), "1101": (None, None, ""),
               "1102": (None, None, ""), "restart": (float, 10.0, "seconds down"),
               "reject": (int, 1, "orders"), "pacing": (int, 1, "requests"), "clientid": (int, 0, "client id"),
               "stall": (str, None, "symbol")}


def _fault_parts(spec: str) -> tuple[str, float, object]:
    """(kind, delay, argument) of ``KIND@SECONDS[:ARG]``; DataError naming --fault otherwise."""
    where = f"gateway-sim --fault {spec!r}"
    kind, at, rest = str(spec).partition("@")
    seconds, colon, arg = rest.partition(":")
    if not at or kind not in _FAULT_ARGS:
        known = ", ".join(_FAULT_ARGS)
        raise DataError(f"{where}: expected KIND@SECONDS[:ARG] with KIND one of {known}, e.g. restart@60:10")
    try:
        delay = float(seconds)
    except ValueError:
        delay = math.nan
    if not math.isfinite(delay) or delay < 0 or delay > 86_400 * 365:
        raise DataError(f"{where}: SECONDS must be a finite number >= 0 (got {seconds!r})")
    kind_type, default, what = _FAULT_ARGS[kind]
    if colon and not arg:   # restart@10: is a cut-off spec, not the default
        raise DataError(f"{where}: nothing after ':'; give the argument or leave out the ':'")
    if kind_type is None:
        if arg:
            raise DataError(f"{where}: {kind} takes no argument (got {arg!r})")
        return kind, delay, None
    if not arg:
        return kind, delay, default
    if kind_type is str:
        if not arg.replace(".", "").replace("-", "").isalnum() or len(arg) > 20:
            raise DataError(f"{where}: the argument ({what}) must be a symbol such as SPY (got {arg!r})")
        return kind, delay, arg.upper()
    try:
        value = kind_type(arg)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value < 0 or value > 1_000_000:
        raise DataError(f"{where}: the argument ({what}) must be a {'whole ' if kind_type is int else ''}"
                             f"number from 0 to 1000000 (got {arg!r})")
    return kind, delay, value


def _parse_fault(gateway: SimulatedGateway, spec: str):
    """(spec, delay, action) from ``KIND@SECONDS[:ARG]``."""
    kind, delay, arg = _fault_parts(spec)
    actions = {
        "drop": lambda: gateway.drop_connections(),
        "restart": lambda: gateway.drop_connections(restart_seconds=arg),
        "reject": lambda: gateway.reject_next_orders(arg),
        "pacing": lambda: gateway.pace_next_historical(arg),
        "clientid": lambda: gateway.reserve_client_id(arg),
        "stall": lambda: gateway.stall_bars(arg),
    }
    if kind in ("1100", "1101", "1102"):
        action = lambda: gateway.send_error(int(kind))  # noqa: E731
    else:
        action = actions[kind]
    return spec, delay, action


def _arm(spec: str, delay: float, action) -> threading.Timer:
    def fire():
        logger.info(f"gateway-sim: fault {spec}")
        action()

    timer = threading.Timer(delay, fire)
    timer.daemon = True
    timer.start()
    return timer
