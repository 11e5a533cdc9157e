"""Configuration of the IB connection and of the risk limits for paper trading.

The lead's run config embeds :class:`IBConfig` as its ``ib:`` section and
:class:`RiskLimits` as its ``risk:`` section. Both forbid unknown keys.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import ConfigDict, Field, field_validator

from strategies.params import PlainInputModel

#: Ports on which IB Gateway (4001) and TWS (7496) serve *live* accounts.
LIVE_PORTS = frozenset({4001, 7496})
#: Upper bounds of the waits (seconds) and of the history asked for: far above any sensible value, and below
#: what the event loop's timers overflow on (``connect_timeout: 1e300`` crashed with OverflowError).
HOUR, WEEK = 3600.0, 7 * 86400.0
MAX_BACKFILL_BARS = 100_000


class IBConfig(PlainInputModel):
    """How to reach IB Gateway (or the simulated gateway) and how to behave on faults."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field("127.0.0.1", description="Host of IB Gateway / TWS. Loopback unless the gateway runs elsewhere and trusts this IP.")
    port: int = Field(4002, ge=1, le=65535, description="API port. 4002 = IB Gateway paper, 7497 = TWS paper. Live ports 4001 and 7496 are refused.")
    client_id: int = Field(17, ge=0, le=2**31 - 1, description="API client id; must be unique among clients connected to the same gateway (error 326 otherwise).")
    library: Literal["auto", "ib_insync", "ib_async"] = Field("auto", description="IB client library; auto prefers ib_async when it is installed.")
    account: str | None = Field(None, pattern=r"^[A-Za-z0-9]{1,32}$", description="Expected paper account id (DU...). When set, the gateway must manage exactly this account.")
    connect_timeout: float = Field(10.0, gt=0, le=HOUR, description="Seconds to wait for the API handshake and initial synchronisation.")
    reconnect_give_up: float = Field(300.0, ge=0, le=WEEK, description="Seconds to keep reconnecting after the connection drops before giving up (exit 3). Covers the nightly gateway restart.")
    backoff_initial: float = Field(0.5, gt=0, le=HOUR, description="First wait between reconnect attempts, in seconds.")
    backoff_max: float = Field(30.0, gt=0, le=HOUR, description="Longest wait between reconnect attempts, in seconds (the wait doubles up to this).")
    restart_backoff: float = Field(5.0, gt=0, le=HOUR, description="Longest wait between reconnect attempts once the gateway refuses connections (it is restarting): a 20 s restart then costs at most about 25 s, not a doubled 32 s.")
    stale_exit_minutes: float = Field(30.0, gt=0, le=24 * 60, description="While the gateway has lost IB (1100, no 1101/1102 yet): this many minutes before an open position's time exit is due (a daily playbook's market-on-close cutoff on its exit day) without that exit working at the gateway, alert loudly (ERROR and the webhook's stale_exit event); the position is flattened at market at the first chance once orders can go out again.")
    pacing_backoff: float = Field(15.0, ge=0, le=HOUR, description="Seconds to wait before retrying a historical request refused by pacing (errors 162, 420).")
    request_timeout: float = Field(60.0, gt=0, le=HOUR, description="Seconds to wait for one historical-data or contract-details request.")
    journal: Path | None = Field(None, description="SQLite order journal. Default: logs/journal-<account>.sqlite (one file per account).")
    order_ref_prefix: str = Field("flowbot", min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_.-]+$", description="Prefix of the orderRef given to every order; identifies this bot's orders at the gateway.")
    cancel_on_exit: bool = Field(False, description="Cancel this bot's open orders on a clean shutdown (Ctrl-C, SIGTERM, --duration). Off: resting orders such as MOC exits stay at the gateway.")
    exchange: str = Field("SMART", description="Routing exchange for stock contracts.")
    currency: str = Field("USD", description="Currency of the traded contracts and of the account values used for cash.")
    bar_size: str | None = Field(None, description="Bar size every playbook decides on: 1d (daily, completes at the session close) or Nmin (e.g. 1min). null = each playbook's own (1min for vwap_close_fade, 1d for the daily playbooks), so daily and 1-minute playbooks share one session.")
    backfill_bars: int | dict[str, int] = Field(default_factory=lambda: {"1d": 300, "1min": 390}, description="Completed bars of history loaded before going live, for indicator warm-up: one number for every feed, or one per bar size, e.g. {1d: 300, 1min: 390} (300 daily bars cover year-to-date logic; 390 minutes are one session, and the VWAP resets daily).")
    feed_symbols: dict[str, str] = Field(default_factory=dict, description="IB symbol per feed name where they differ, e.g. {SPY.bonds: IEF}; a strategy's own feed defaults to its symbol.")
    primary_exchange: dict[str, str] = Field(default_factory=dict, description="Optional primary exchange per symbol (e.g. {SPY: ARCA}) to disambiguate contracts.")

    @field_validator("backoff_max")
    @classmethod
    def _backoff_max_not_below_initial(cls, v: float, info) -> float:
        initial = info.data.get("backoff_initial", 0.5)
        if v < initial:
            raise ValueError(f"must be >= backoff_initial ({initial})")
        return v

    @field_validator("bar_size")
    @classmethod
    def _known_bar_size(cls, v: str | None) -> str | None:
        from runner.ib.bars import BarSize

        if v is not None:
            BarSize.parse(v)
        return v

    @field_validator("backfill_bars")
    @classmethod
    def _backfill_per_known_size(cls, v: int | dict[str, int]) -> int | dict[str, int]:
        from runner.ib.bars import BarSize

        if isinstance(v, int):
            if not 0 <= v <= MAX_BACKFILL_BARS:
                raise ValueError(f"must be from 0 to {MAX_BACKFILL_BARS:,} bars (got {v})")
            return v
        for size, count in v.items():
            BarSize.parse(size)
            if not 0 <= count <= MAX_BACKFILL_BARS:
                raise ValueError(f"{size}: must be from 0 to {MAX_BACKFILL_BARS:,} bars (got {count})")
        return v

    @field_validator("journal", mode="before")
    @classmethod
    def _journal_not_blank(cls, v):
        # Path('') is '.': the journal would be the current folder, and the first order would fail on it.
        if isinstance(v, str) and not v.strip():
            raise ValueError(f"expected the path of the journal file, or null for logs/journal-<account>.sqlite (got {v!r})")
        return v

    def backfill_for(self, size) -> int:
        """Bars of history to load for a feed of ``size`` (a BarSize); 300 daily / 390 intraday if unnamed."""
        from runner.ib.bars import BarSize

        if isinstance(self.backfill_bars, int):
            return self.backfill_bars
        for text, count in self.backfill_bars.items():
            if BarSize.parse(text) == size:
                return count
        return 300 if size.daily else 390


class RiskLimits(PlainInputModel):
    """Limits the broker enforces whatever the strategy asks for."""

    model_config = ConfigDict(extra="forbid")

    max_position_value: float | None = Field(None, gt=0, description="Largest absolute position value per symbol, in account currency; an order that would exceed it is Rejected. None = no limit.")
    max_daily_loss: float | None = Field(None, gt=0, description="Loss from the session's starting value (in account currency) at which the bot cancels its open orders, flattens and stops. None = no limit.")
