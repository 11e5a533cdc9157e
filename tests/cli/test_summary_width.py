"""The backtest summary fits 100 columns and compares the portfolio with holding the instruments."""
import json
from pathlib import Path


from runner.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_summary_fits_100_columns_with_the_portfolio_row(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("COLUMNS", "100")
    assert main(["backtest", "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    table = [line for line in lines if line[:1] in "┏┃┡│├└"]
    assert table and max(len(line) for line in table) <= 100
    for line in lines:
        if not line.startswith(("december_fade", "january_snapback", "vwap_close_fade")):   # the data notes
            assert len(line) <= 100, line
    portfolio = next(line for line in table if "portfolio" in line)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    cells = [c.strip() for c in portfolio.split("│")]
    assert cells[2] == str(metrics["trades"]) and cells[5] == f"{metrics['total_return_pct']:+.2f}%"
    assert "holding instead over the whole run: SPX +" in out and "COMP +" in out
