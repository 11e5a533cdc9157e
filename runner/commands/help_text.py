"""What each subcommand's ``--help`` says: a description and two or three examples."""
from __future__ import annotations

import argparse

HELP: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "backtest": (
        "Run the playbooks of a run config on their data and write a run folder (trades.csv, orders.csv, "
        "equity.csv, metrics.json, config.resolved.yaml, report.html, run.log).",
        [("flowbot backtest", "the default run: config/backtest.yaml on the embedded sample"),
         ("flowbot backtest --strategy december_fade --start 2005-01-01 --set "
          "strategies.december_fade.params.rally_pct=2", "one playbook, a shorter window, one parameter changed"),
         ("flowbot backtest --strategy december_fade --data my.csv --delimiter ';' --date-format '%d/%m/%Y' "
          "--columns time=Timestamp,close=Last", "your own bar file"),
         ("flowbot backtest --json | jq .playbooks.december_fade.performance.sharpe", "the figures for a script")]),
    "paper": (
        "Paper trade the playbooks through IB Gateway or TWS (paper accounts only: live ports and live "
        "accounts are refused).",
        [("flowbot gateway-sim --port 4102 & flowbot paper --set ib.port=4102 --duration 60", "rehearse against the simulated gateway"),
         ("flowbot paper -c config/paper.yaml", "a paper session with the shipped paper config")]),
    "config": (
        "Validate a run config or a sweep file, or print the config exactly as a run would use it.",
        [("flowbot config check", "check config/backtest.yaml"),
         ("flowbot config check config/sweeps/december_fade.yaml", "check a sweep file and its base config"),
         ("flowbot config show config/backtest.yaml --set broker.cash=50000", "the resolved config, defaults filled in")]),
    "config check": (
        "Validate a run config or a sweep file (every key, every playbook parameter, every sweep value); "
        "exit code 2 and one message per problem if it is invalid.",
        [("flowbot config check", "the default config/backtest.yaml"),
         ("flowbot config check -c config/paper.yaml", "another run config"),
         ("flowbot config check config/sweeps/december_fade.yaml", "a sweep file and its base")]),
    "config show": (
        "Print a config as a run would use it: defaults filled in, --set overrides applied.",
        [("flowbot config show", "the default config/backtest.yaml"),
         ("flowbot config show config/paper.yaml --set broker.cash=50000", "with an override")]),
    "optimize": (
        "Tune parameters with a sweep file (grid, random or optuna search, optional walk-forward); writes "
        "results.csv, best.yaml, report.html and summary.json in a run folder. A sweep optimizes one playbook, on "
        "its own account as a backtest runs it (of a base with several, the one its parameters tune); walk-forward "
        "folds are its window years. An interrupted sweep resumes with --resume.",
        [("flowbot optimize -c config/sweeps/december_fade.yaml", "the shipped December-fade sweep"),
         ("flowbot optimize -c config/sweeps/december_fade.yaml --workers 2 --json", "two workers, the result as JSON"),
         ("flowbot optimize --resume logs/20260101-120000-optimize-december_fade", "continue an interrupted sweep")]),
    "fetch": (
        "Download historical bars from IB into the local cache that data.source: cache reads.",
        [("flowbot fetch --symbol SPY --start 2024-01-02", "one symbol's minute bars (the default bar size)"),
         ("flowbot fetch --symbol SPY --bar-size '1 day' --what ADJUSTED_LAST --start 2000-01-03",
          "adjusted daily bars")]),
    "gateway-sim": (
        "Run a simulated IB Gateway on 127.0.0.1 replaying bars, to rehearse paper trading without IB.",
        [("flowbot gateway-sim", "the default simulated gateway on port 4102"),
         ("flowbot gateway-sim --data my_1min.csv --speed 60 --exit-when-done", "replay your own minute bars"),
         ("flowbot gateway-sim --port 4102 & flowbot paper --set ib.port=4102 --duration 60", "a paper session against it")]),
    "status": (
        "Print a paper run's status.json: connection, last bar per feed, positions, working orders, recent "
        "fills, P&L and events. The file is rewritten on every event, so it shows the last state even of a "
        "session that was killed.",
        [("flowbot status", "the newest paper run under logs/"),
         ("flowbot status logs/20261201-093000-paper-year-end", "one run folder"),
         ("flowbot status --json | jq .positions", "the file as it is, for scripts")]),
    "pressure": (
        "Today's rebalancing pressure: the drift of balanced mixes from their targets, the implied flows, and "
        "which playbooks' conditions hold (config/pressure.yaml).",
        [("flowbot pressure --date 2018-12-21", "on a given day, from the embedded sample"),
         ("flowbot pressure --source cache", "the same names from the IB cache (flowbot fetch)")]),
    "list": (
        "The playbooks flowbot knows, one line each, with their parameters: default, valid range and the "
        "range a sweep should explore. With -c, your own playbooks of that config are listed too.",
        [("flowbot list", "every playbook and its parameters"),
         ("flowbot list december_fade", "one playbook"),
         ("flowbot list --json", "the same as JSON, for scripts")]),
    "show": (
        "Print a past run's summary again from its run folder (backtest or optimize). RUN is a run folder, "
        "its name under logs/, a unique part of the name, or 'latest'.",
        [("flowbot show latest", "the most recent run"),
         ("flowbot show logs/20260101-120000-backtest-year-end-daily", "a run folder"),
         ("flowbot show latest --json", "its figures as JSON")]),
    "compare": (
        "Put runs side by side: their figures (total return, Sharpe, drawdown, trades, per playbook) and the "
        "config values that differ between them.",
        [("flowbot compare latest~1 latest", "the last two runs"),
         ("flowbot compare logs/run-a logs/run-b logs/run-c", "three run folders"),
         ("flowbot compare run-a run-b --json", "as JSON")]),
    "new": (
        "Start your own playbook: a commented template, a config to run it and a golden test beside it.",
        [("flowbot new playbook my_fade", "writes playbooks/my_fade.py, my_fade.yaml, test_my_fade.py"),
         ("flowbot new playbook my_fade --folder research", "in another folder")]),
    "new playbook": (
        "Write a commented playbook template NAME.py (a daily Playbook with its Params model), NAME.yaml "
        "(a run config using playbooks_path) and test_NAME.py (a golden test: the trades on the embedded "
        "sample must match NAME.golden.csv), then run it once to record the golden trades.",
        [("flowbot new playbook my_fade", "in ./playbooks/"),
         ("flowbot backtest -c playbooks/my_fade.yaml", "run it"),
         ("pytest playbooks/test_my_fade.py", "its golden test")]),
}


def describe(parser: argparse.ArgumentParser, name: str) -> None:
    """Give ``parser`` the description and examples of command ``name``."""
    if name not in HELP:
        return
    import shutil
    import textwrap

    description, examples = HELP[name]
    # Raw formatting keeps the examples' lines as they are; the description is wrapped here, to the terminal.
    width = max(min(shutil.get_terminal_size((80, 24)).columns, 100) - 2, 40)
    parser.description = textwrap.fill(description, width=width)
    lines = ["examples:"]
    for command, what in examples:
        lines += [f"  # {what}", f"  {command}"]
    parser.epilog = "\n".join(lines)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
