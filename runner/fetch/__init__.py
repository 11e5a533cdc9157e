"""The fetch wing: historical bars from IB into the local Parquet cache.

- ``plan``: which chunks to request, by IB's largest duration per bar size,
  skipping holidays and what the cache already holds.
- ``download``: ``fetch_bars``: paced requests, retries, merge into the cache.
- ``command``: the ``flowbot fetch`` subcommand.
The cache itself lives in ``runner.data.cache`` (backtests read it too).
"""
