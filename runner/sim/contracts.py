"""The instruments the simulated gateway knows: one US stock/ETF listing per symbol.

Contract: every symbol of the dataset becomes a ``Listing`` (secType STK,
currency USD, routed through SMART, a stable ``con_id``). ``ContractBook.match``
answers a contract request the way a real gateway does: by conId when one is
given, otherwise by symbol with optional secType/currency/exchange filters;
anything else is unknown (the server answers error 200).
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field

# Primary listings of the symbols the playbooks use; others default to ARCA.
_PRIMARY_EXCHANGE = {
    "QQQ": "NASDAQ", "AAPL": "NASDAQ", "MSFT": "NASDAQ", "NVDA": "NASDAQ", "AMZN": "NASDAQ",
    "TLT": "NASDAQ", "IEF": "NASDAQ", "SHY": "NASDAQ",
    "SPY": "ARCA", "IWM": "ARCA", "AGG": "ARCA", "DIA": "ARCA", "GLD": "ARCA",
}
# Real conIds for the common ETFs, so logs look familiar; others are derived.
_KNOWN_CON_IDS = {"SPY": 756733, "QQQ": 320227571, "IWM": 9579970, "TLT": 15547841, "IEF": 15547816}


@dataclass(frozen=True)
class Listing:
    symbol: str
    con_id: int
    primary_exchange: str
    exchange: str = "SMART"
    sec_type: str = "STK"
    currency: str = "USD"
    long_name: str = ""
    min_tick: float = 0.01

    @property
    def valid_exchanges(self) -> str:
        return f"SMART,{self.primary_exchange},ARCA,NYSE,NASDAQ,BATS,IEX"


def derived_con_id(symbol: str) -> int:
    """A stable conId for a symbol without a known one (same symbol, same id)."""
    return 100_000_000 + zlib.crc32(symbol.encode()) % 400_000_000


@dataclass
class ContractBook:
    listings: dict[str, Listing] = field(default_factory=dict)

    @classmethod
    def for_symbols(cls, symbols, overrides: dict[str, dict] | None = None) -> "ContractBook":
        """One listing per symbol; ``overrides[symbol]`` may set any Listing field."""
        overrides = overrides or {}
        listings = {}
        for symbol in symbols:
            values = {
                "con_id": _KNOWN_CON_IDS.get(symbol) or derived_con_id(symbol),
                "primary_exchange": _PRIMARY_EXCHANGE.get(symbol, "ARCA"),
                "long_name": f"{symbol} (simulated)",
            }
            values.update(overrides.get(symbol, {}))
            listings[symbol] = Listing(symbol=symbol, **values)
        return cls(listings)

    def by_symbol(self, symbol: str) -> Listing | None:
        return self.listings.get(symbol)

    def by_con_id(self, con_id: int) -> Listing | None:
        return next((item for item in self.listings.values() if item.con_id == con_id), None)

    def match(self, con_id: int, symbol: str, sec_type: str = "", currency: str = "",
              exchange: str = "") -> Listing | None:
        """The listing a contract request means, or None if it matches nothing."""
        listing = self.by_con_id(con_id) if con_id else self.by_symbol(symbol)
        if listing is None:
            return None
        if symbol and symbol != listing.symbol:
            return None
        if sec_type and sec_type != listing.sec_type:
            return None
        if currency and currency != listing.currency:
            return None
        if exchange and exchange not in listing.valid_exchanges.split(","):
            return None
        return listing
