"""The optimize wing: parameter sweeps and walk-forward tests.

- ``sweep_config``: the sweep file (spaces, constraints, search kind) and its validation.
- ``sweep``: the driver (``run_sweep``): plan runs, execute, resume, write outputs.
- ``ranking``: ordering finished runs by the sweep's metric (shared by the
  driver, the report and walk-forward, so none imports the driver).
- ``runs``: one run of a sweep inside a worker (data loaded once per worker).
- ``executors``: process pool and Dask executors.
- ``walkforward``: in-sample / out-of-sample folds.
- ``report``: the sweep's ``report.html``.
- ``command``: the ``flowbot optimize`` subcommand.
"""
