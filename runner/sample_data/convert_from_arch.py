"""One-off conversion of the embedded sample from the `arch` package (not a dependency).

Run once by a maintainer: ``pip install arch && python runner/sample_data/convert_from_arch.py``.
It writes the daily index bars in the common CSV layout and the monthly AAA
yields, compressed, beside this file.
"""
from pathlib import Path

import arch.data.default
import arch.data.nasdaq
import arch.data.sp500

HERE = Path(__file__).parent


def main() -> None:
    for name, module in (("sp500", arch.data.sp500), ("nasdaq", arch.data.nasdaq)):
        bars = module.load()
        bars.index.name = "Date"
        bars.round(4).to_csv(HERE / f"{name}_daily.csv.gz", date_format="%Y-%m-%d",
                             compression={"method": "gzip", "mtime": 0})
    yields = arch.data.default.load()[["AAA"]]
    yields.index.name = "Date"
    yields.to_csv(HERE / "aaa_yield_monthly.csv.gz", date_format="%Y-%m-%d",
                  compression={"method": "gzip", "mtime": 0})


if __name__ == "__main__":
    main()
