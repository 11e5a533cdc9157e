"""The pressure monitor's file: which instruments, which legs, which mixes, which signals, which playbooks.

    instruments: {SPX: sample:sp500, PROXY: sample:aaa_bond_proxy, COMP: sample:nasdaq}
    equity: SPX
    bonds: PROXY
    mixes: [0.6, 0.7]
    aum: 1.0e12
    signals: [{signal: rotation, long: COMP, short: SPX, sessions: 10, min_pct: 1.0}]
    playbooks: [backtest.yaml, quarter_end.yaml]   # run configs whose playbooks are checked (relative to this file)
"""
from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError, field_validator, model_validator

from runner.config import DataSource, StrictModel, apply_overrides, format_errors, read_yaml
from runner.errors import ConfigError
from strategies.signals.filter_specs import SignalFilter, clean_filter_loc


class PressureConfig(StrictModel):
    instruments: dict[str, DataSource] = Field(description="name -> bars (sample:, a file, or cache:SYMBOL)")
    equity: str = Field(description="the equity leg: an instrument name")
    bonds: str | None = Field(None, description="the bond leg: an instrument name; null = no drift")
    mixes: list[float] = Field([0.6], min_length=1, description="target equity weights to show, e.g. [0.6, 0.7]")
    aum: float = Field(1e12, gt=0, description="balanced-fund assets the implied flow is scaled to (dollars)")
    signals: list[SignalFilter] = Field(default_factory=list, description="rotation / volume_spike / drift "
                                        "signals to show against their thresholds (legs: instrument names)")
    playbooks: list[Path] = Field(default_factory=list, description="run configs whose playbooks are checked "
                                  "(one file or a list, relative to this file)")
    cache_folder: Path = Field(Path("logs/cache"), description="the IB cache folder for cache: sources")

    @field_validator("playbooks", mode="before")
    @classmethod
    def _one_or_more(cls, value):
        return [] if value is None else [value] if isinstance(value, (str, Path)) else value

    @field_validator("mixes")
    @classmethod
    def _weights(cls, mixes: list[float]) -> list[float]:
        wrong = [m for m in mixes if not 0 < m < 1]
        if wrong:
            raise ValueError(f"each mix is an equity weight between 0 and 1, e.g. 0.6 (got {wrong})")
        return mixes

    @model_validator(mode="after")
    def _legs_known(self) -> "PressureConfig":
        names = set(self.instruments)
        legs = [("equity", self.equity)] + ([("bonds", self.bonds)] if self.bonds else [])
        for i, spec in enumerate(self.signals):
            legs += [(f"signals[{i}]", leg) for leg in spec.legs(self.equity)]
        for where, leg in legs:
            if leg not in names:
                raise ValueError(f"{where}: {leg!r} is not one of the instruments ({', '.join(sorted(names))})")
        return self

    def use_cache(self) -> None:
        """Every instrument from the IB cache, under its own name (``--source cache``)."""
        self.instruments = {name: DataSource(cache=name) for name in self.instruments}


def load_pressure_config(path: Path, overrides=()) -> PressureConfig:
    raw, node = read_yaml(path)
    origins = apply_overrides(raw, overrides)
    try:
        cfg = PressureConfig.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        for error in errors:
            error["loc"] = clean_filter_loc(error["loc"])
        raise ConfigError(format_errors(errors, str(path), node, origins, model=PressureConfig)) from None
    cfg.playbooks = [p if p.is_absolute() else path.parent / p for p in cfg.playbooks]
    return cfg
