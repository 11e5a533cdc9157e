"""Run configuration: YAML validated into strict pydantic models.

Precedence: model defaults < YAML file < ``--set dotted.key=value`` overrides.
Every error is a :class:`ConfigError` naming the file, the dotted path, what
was expected and what was given, e.g.
``config/backtest.yaml: strategies[0].params.rally_pct: must be > 0 (got -1.5)``.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator

from runner.config_files import read_yaml
from runner.config_messages import _did_you_mean, _line_of, describe_error, dotted, format_errors  # noqa: F401
from runner.errors import ConfigError
from runner.ib.ib_config import IBConfig, RiskLimits
from runner.paper.notify_config import NotifyConfig
from runner.inputs import cut, has_control_characters, plausible_date, safe_name, shown
from strategies.params import PlainInputModel
from strategies.registry import STRATEGIES, card_of
from strategies.signals.filter_specs import clean_filter_loc, filter_known_keys, raw_filter_legs, raw_filters_readable


class StrictModel(PlainInputModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_empty_path(cls, value: Any, info) -> Any:
        # Path('') is '.': output.folder: '' would put run folders in the current folder, unasked.
        field = cls.model_fields.get(info.field_name) if info.field_name else None
        if field is not None and isinstance(value, str) and "Path" in str(field.annotation):
            if not value.strip():
                raise ValueError(f"expected a path (got {value!r})")
            if has_control_characters(value):   # NUL: the OS refuses it later, as a crash; say it here, with the key
                raise ValueError(f"expected a path without NUL bytes or other control characters "
                                 f"(got {cut(repr(value), 60)})")
        return value


class DataSource(StrictModel):
    """Where bars come from: an embedded sample, a file, or the local IB cache (``flowbot fetch``)."""

    sample: str | None = Field(None, description="name of an embedded sample (sp500, nasdaq, aaa_bond_proxy, ...)")
    path: Path | None = Field(None, description="CSV or Parquet file of bars")
    cache: str | None = Field(None, description="IB symbol whose bars `flowbot fetch` put in the cache (data.cache_folder)")
    bar_size: str | None = Field(None, description="cache only: bar size of the cached dataset, e.g. '1 min', '1 day'; "
                                                   "null = the playbook's (1 min intraday, 1 day daily)")
    what: Literal["TRADES", "ADJUSTED_LAST"] = Field("TRADES", description="cache only: TRADES, or IB's adjusted daily bars")
    all_hours: bool = Field(False, description="cache only: the dataset fetched with --all-hours (outside regular hours too)")
    format: Literal["auto", "csv", "parquet"] = Field("auto", description="file format; auto = by extension")
    columns: dict[str, str] | None = Field(None, description="our column -> the file's, e.g. {time: Datetime}")
    date_format: str | None = Field(None, description="strftime format of the time column (e.g. '%d/%m/%Y'), "
                                                      "epoch or epoch_ms for Unix times; null = infer")
    delimiter: str | None = Field(None, min_length=1, max_length=1,
                                  description="CSV field separator, e.g. ';' or '\\t'; null = comma")
    decimal: Literal[".", ","] = Field(".", description="decimal mark of a CSV's numbers: '.' (commas are then "
                                                        "thousands separators only) or ',' (1.229,23)")
    timezone: str = Field("America/New_York", description="time zone of naive times in the file")
    outside_hours: Literal["refuse", "drop"] = Field(
        "refuse", description="intraday bars outside regular hours: refuse the file, or drop them with a warning")

    @model_validator(mode="before")
    @classmethod
    def _from_shorthand(cls, value: Any) -> Any:
        # "sample:sp500", "cache:SPY" or a bare path are accepted for brevity.
        if isinstance(value, str):
            if value.startswith("sample:"):
                return {"sample": value[7:]}
            if value.startswith("cache:"):
                return {"cache": value[6:]}
            return {"path": value}
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        # Checked here, so the message names the key (not the data file it would be applied to).
        import zoneinfo

        try:
            if zone.strip() != zone or not zone or len(zone) > 64:
                raise ValueError
            zoneinfo.ZoneInfo(zone)
        except (ValueError, OSError, zoneinfo.ZoneInfoNotFoundError):   # OSError: a name too long for a file
            raise ValueError(f"expected an IANA time zone such as America/New_York, Europe/London or UTC "
                             f"(got {shown(zone)})") from None
        return zone

    @field_validator("sample")
    @classmethod
    def _known_sample(cls, name: str | None) -> str | None:
        # Checked here, so config check refuses it and the message names the key (the loader said only
        # "unknown sample 'x'", without the file or the key, and config check said ok).
        if name is None:
            return name
        from runner.data.sample_list import SAMPLE_NAMES   # not runner.data.sample: that imports pandas

        if name not in SAMPLE_NAMES:
            raise ValueError(f"unknown sample {shown(name)}; expected one of {', '.join(SAMPLE_NAMES)}")
        return name

    @field_validator("cache")
    @classmethod
    def _plain_symbol(cls, symbol: str | None) -> str | None:
        # The symbol names the cache's folder: it must stay one plain path component.
        return None if symbol is None else _path_safe(symbol, "cache symbol")

    @model_validator(mode="after")
    def _one_source(self) -> "DataSource":
        if sum(x is not None for x in (self.sample, self.path, self.cache)) != 1:
            raise ValueError("give exactly one of sample, path or cache")
        if self.cache is None and (self.bar_size is not None or self.what != "TRADES" or self.all_hours):
            raise ValueError("bar_size, what and all_hours apply to the IB cache only (cache: SYMBOL)")
        if self.bar_size is not None:
            from runner.ib.bars import BarSize

            try:
                BarSize.parse(self.bar_size)
            except ValueError as exc:
                raise ValueError(f"bar_size: {exc}") from None
        return self

    def describe(self) -> str:
        if self.cache is not None:
            variant = "".join((f" {self.bar_size}" if self.bar_size else "", " all hours" if self.all_hours else "",
                               " adjusted" if self.what == "ADJUSTED_LAST" else ""))
            return f"cache:{self.cache}{variant}"
        return f"sample:{self.sample}" if self.sample else str(self.path)


def _path_safe(text: str, what: str) -> str:
    try:
        return safe_name(text, what, ValueError)
    except ValueError as exc:
        raise ValueError(str(exc).split(": ", 1)[1]) from None


class DataConfig(StrictModel):
    """Where every playbook's bars come from, unless its own ``data:`` says otherwise."""

    source: Literal["config", "cache"] = Field(
        "config", description="config = each playbook's data: entry; cache = every active playbook's instrument "
                              "(and extra feeds named in ib.feed_symbols) from the IB cache that `flowbot fetch` fills")
    cache_folder: Path = Field(Path("logs/cache"), description="folder of the IB cache (flowbot fetch --cache)")


class CommissionConfig(StrictModel):
    per_share: float = Field(0.005, ge=0, description="commission per share (IB fixed: 0.005)")
    minimum: float = Field(1.0, ge=0, description="minimum per order (IB fixed: 1.00)")
    maximum_pct: float = Field(1.0, ge=0, le=100, description="cap, percent of trade value (IB fixed: 1%)")


class BrokerConfig(StrictModel):
    cash: float = Field(100_000.0, ge=1, le=1e12,
                        description="starting cash, 1 to a trillion (less buys nothing; beyond, sizes lose meaning)")
    commission: CommissionConfig = Field(default_factory=CommissionConfig)
    slippage_pct: float = Field(0.02, ge=0, le=5, description="adverse slippage on every fill, percent of price")


class StrategyConfig(StrictModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(description="playbook name: " + ", ".join(sorted(STRATEGIES)) + ", or your own")
    class_: str | None = Field(None, alias="class", description="your own playbook class, package.module:ClassName "
                                                               "(registered under name)")
    label: str | None = Field(None, description="name in outputs; default: the playbook name")
    symbol: str = Field(description="instrument symbol (the data feed's name)")
    data: DataSource = Field(description="bars of the instrument")
    feeds: dict[str, DataSource] = Field(default_factory=dict, description="extra feeds by role, e.g. bonds")
    params: dict[str, Any] = Field(default_factory=dict, description="the playbook's parameters")
    enabled: bool = Field(True, description="false keeps the entry but skips it")

    @model_validator(mode="before")
    @classmethod
    def _register_user_class(cls, value: Any) -> Any:
        if isinstance(value, dict) and value.get("class") is not None and isinstance(value.get("name"), str):
            from runner.user_playbooks import register_class_entry

            register_class_entry(value["name"], value["class"])
        return value

    @field_validator("name")
    @classmethod
    def _known_strategy(cls, name: str) -> str:
        if name not in STRATEGIES:
            raise ValueError(f"unknown strategy {name!r}; expected one of {', '.join(sorted(STRATEGIES))}"
                             + _did_you_mean(name, STRATEGIES)
                             + " (your own playbook: add class: package.module:ClassName, or playbooks_path)")
        return name

    @field_validator("symbol", "label")
    @classmethod
    def _plain_text(cls, text: str | None, info) -> str | None:
        # Symbols and labels become parts of file names (cache, journal, outputs).
        return None if text is None else _path_safe(text, info.field_name)

    @model_validator(mode="after")
    def _check_playbook(self) -> "StrategyConfig":
        playbook = card_of(self.name)
        legs = raw_filter_legs(self.params.get("filters"), self.symbol)
        for index, key, leg in legs:
            if leg == self.symbol and leg not in self.feeds and not getattr(playbook, "filters_read_instrument", True):
                raise ValueError(f"params.filters[{index}].{key}: {self.name} decides on intraday bars and its filters "
                                 f"read daily bars; declare {leg}'s daily bars as a feed, e.g. feeds: "
                                 f"{{{leg}: cache:{leg}}}")
            if leg != self.symbol and leg not in self.feeds:
                raise ValueError(f"params.filters[{index}].{key}: {leg!r} is neither the instrument ({self.symbol}) "
                                 f"nor a feed of this playbook; declare it, e.g. feeds: {{{leg}: cache:{leg}}}")
        unknown = set(self.feeds) - set(playbook.extra_feeds) - {leg for _, _, leg in legs}
        if unknown and raw_filters_readable(self.params.get("filters")):   # else the schema check says why
            allowed = ", ".join(playbook.extra_feeds) or "none"
            raise ValueError(f"feeds: unknown role(s) {sorted(unknown)} for {self.name}; allowed: {allowed}, "
                             f"or a feed a filter names (params.filters)")
        return self

    @property
    def display_name(self) -> str:
        return self.label or self.name

    def typed_params(self):
        return card_of(self.name).Params(**self.params)


class OutputConfig(StrictModel):
    folder: Path = Field(Path("logs"), description="where run folders are created")
    report: bool = Field(True, description="write report.html")


class EngineConfig(StrictModel):
    every_bar: bool = Field(False, description="feed every bar to backtrader (the plain path) instead of only the "
                            "bars an intraday playbook can act on; the trades are identical, it is slower")


class LoggingConfig(StrictModel):
    level: Literal["TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR"] = Field("INFO", description="console level")
    file_level: Literal["TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR"] = Field("DEBUG", description="run.log level")


class RunConfig(StrictModel):
    playbooks_path: Path | None = Field(None, description="folder of your own playbooks (NAME.py each), "
                                                         "relative to the current folder")
    name: str = Field("backtest", pattern=r"^[A-Za-z0-9_.-]+$", description="run name, part of the run folder's name")
    start: dt.date | None = Field(None, description="first session to use (default: the data's first)")
    end: dt.date | None = Field(None, description="last session to use (default: the data's last)")
    broker: BrokerConfig = Field(default_factory=BrokerConfig)
    strategies: list[StrategyConfig] = Field(min_length=1, description="the playbooks to run")
    output: OutputConfig = Field(default_factory=OutputConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    ib: IBConfig = Field(default_factory=IBConfig)
    risk: RiskLimits = Field(default_factory=RiskLimits)
    notify: NotifyConfig = Field(default_factory=NotifyConfig, description="paper trading: webhook notifications")
    data: DataConfig = Field(default_factory=DataConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)

    @field_validator("start", "end")
    @classmethod
    def _calendar_date(cls, day: dt.date | None) -> dt.date | None:
        # A date the NYSE calendar cannot place (a typo'd year) would quietly mean "all the data".
        return None if day is None else plausible_date(day, error=ValueError)

    @field_validator("name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        # The run folder's name ends with it: '..' passes the pattern but must not reach a path.
        return _path_safe(name, "name")

    @model_validator(mode="before")
    @classmethod
    def _load_playbooks(cls, value: Any) -> Any:
        if isinstance(value, dict) and value.get("playbooks_path") is not None:
            from runner.user_playbooks import load_folder

            load_folder(value["playbooks_path"])
        return value

    @model_validator(mode="after")
    def _check_window(self) -> "RunConfig":
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        labels = [s.display_name for s in self.strategies]
        duplicates = sorted({x for x in labels if labels.count(x) > 1})
        if duplicates:
            raise ValueError(f"strategy names must be unique; give a label to tell {duplicates} apart")
        if self.data.source == "cache":
            self._use_cache()
        return self

    def _use_cache(self) -> None:
        """data.source=cache: instruments (and extra feeds with an IB symbol) read the IB cache."""
        symbols = self.ib.feed_symbols
        for strategy in self.strategies:
            if strategy.data.cache is None:
                strategy.data = DataSource(cache=symbols.get(strategy.symbol, strategy.symbol))
            for role, source in list(strategy.feeds.items()):
                name = f"{strategy.symbol}.{role}"
                if source.cache is None and name in symbols:
                    strategy.feeds[role] = DataSource(cache=symbols[name])

    def active_strategies(self) -> list[StrategyConfig]:
        return [s for s in self.strategies if s.enabled]


# -- loading -----------------------------------------------------------------

def load_config(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> RunConfig:
    """Read, override and validate a run config; raise ConfigError with a precise message."""
    path = Path(path)
    raw, node = read_yaml(path)
    return validate_config(raw, str(path), node, apply_overrides(raw, overrides))


def apply_overrides(raw: dict, overrides: list[str] | tuple[str, ...]) -> dict[tuple, str]:
    """Apply every ``--set dotted.key=value`` to ``raw``; return resolved key -> the option, so that an error
    in a value ``--set`` gave names ``--set key=value`` instead of a line of the file."""
    origins: dict[tuple, str] = {}
    for override in overrides:
        key, value = parse_override(override)
        origin = f"--set {cut(override)}"
        origins[tuple(apply_override(raw, key, value, origin))] = origin
    return origins


def validate_config(raw: dict, source: str, node: yaml.Node | None = None,
                    origins: dict[tuple, str] | None = None) -> RunConfig:
    """Validate in two stages: the schema, then each playbook's own parameters.

    ``origins`` maps the keys ``--set`` gave (as resolved paths) to the option,
    so that their errors name the option instead of a line of the file.
    """
    try:
        cfg = RunConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_errors(exc.errors(), source, node, origins, model=RunConfig)) from None
    problems = []
    for i, strategy in enumerate(cfg.strategies):
        params_model = card_of(strategy.name).Params
        try:
            params_model(**strategy.params)
        except ValidationError as exc:
            for error in exc.errors():
                loc = clean_filter_loc(error["loc"])
                error["loc"] = ("strategies", i, "params", *loc)
                error["known"] = filter_known_keys(strategy.params.get("filters"), loc) \
                    or list(params_model.model_fields)
                problems.append(error)
    if problems:
        raise ConfigError(format_errors(problems, source, node, origins, model=RunConfig))
    return cfg


def parse_override(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {cut(text)}: expected dotted.key=value, "
                          f"e.g. strategies.0.params.rally_pct=2")
    from runner.config_files import RefusedScalar, parse_yaml_text

    try:
        parsed = parse_yaml_text(value)[0] if value.strip() else None
    except yaml.YAMLError as exc:
        if isinstance(exc, RefusedScalar):
            raise ConfigError(f"--set {cut(text)}: {getattr(exc, 'problem', exc)}") from None
        parsed = value
    except RecursionError:
        parsed = value
    return key.strip(), parsed


def split_key(key: str) -> list[str]:
    """``strategies[0].params.x`` and ``strategies.0.params.x`` both become its parts."""
    return [p for p in key.replace("[", ".").replace("]", "").split(".") if p]


def apply_override(raw: dict, key: str, value: Any, origin: str) -> list:
    """Set ``key`` (dotted; list items by index or by strategy name/label) in ``raw``; return its resolved path."""
    parts = split_key(key)
    if not parts:
        raise ConfigError(f"{origin}: no key before '='; expected dotted.key=value")
    if len(parts) != len(key.replace("[", ".").replace("]", "").split(".")):
        raise ConfigError(f"{origin}: an empty part in the key (two dots, or a dot at an end); "
                          f"expected dotted.key=value, e.g. broker.cash=50000")
    node: Any = raw
    resolved: list = []
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            index = _list_index(node, part, origin, where)
            resolved.append(index)
            if last:
                node[index] = value
            else:
                node = node[index]
        elif isinstance(node, dict):
            resolved.append(part)
            if last:
                node[part] = value
            else:
                if node.get(part) is None:
                    node[part] = {}
                node = node[part]
        else:
            raise ConfigError(f"{origin}: {'.'.join(parts[:depth])} is a value, not a section; cannot set {where}")
    return resolved


def _list_index(items: list, part: str, origin: str, where: str) -> int:
    if part.isdigit():
        index = int(part)
        if index < len(items):
            return index
        raise ConfigError(f"{origin}: {where}: index out of range (the list has {len(items)} items)")
    for i, item in enumerate(items):
        if isinstance(item, dict) and part in (item.get("label"), item.get("name")):
            return i
    names = [str(i.get("label") or i.get("name")) for i in items if isinstance(i, dict)]
    raise ConfigError(f"{origin}: {where}: no item named {shown(part)}; expected an index or one of {names}")


def resolved_yaml(cfg: RunConfig) -> str:
    """The exact configuration that ran, defaults filled in, as YAML."""
    data = cfg.model_dump(mode="json", by_alias=True)
    if data.get("playbooks_path") is None:
        data.pop("playbooks_path", None)
    for entry, strategy in zip(data["strategies"], cfg.strategies):
        if entry.get("class") is None:
            entry.pop("class", None)
        entry["params"] = strategy.typed_params().model_dump(mode="json")
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
