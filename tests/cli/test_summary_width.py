"""The backtest summary fits 100 columns and compares each playbook and the combined book with holding."""
import json
from pathlib import Path

from runner.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_summary_fits_100_columns_and_compares_with_holding(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("COLUMNS", "100")
    assert main(["backtest", "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    for line in lines:
        if not line.startswith("run folder:"):   # the path stays on one line, to copy
            assert len(line) <= 100, line
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    first = next(i for i, line in enumerate(lines) if line.startswith("┃ playbook"))
    columns = [c.strip() for c in lines[first].split("┃")[1:-1]]
    assert columns == ["playbook", "data", "span", "trades", "windows", "net P&L", "return", "hold"]
    rows = {}
    for line in lines[first + 2:]:
        if line.startswith("└"):
            break
        cells = [c.strip() for c in line.split("│")[1:-1]]
        rows[cells[0]] = cells
    assert list(rows) == list(metrics["playbooks"])
    for name, figures in metrics["playbooks"].items():
        cells = rows[name]
        assert cells[1] == figures["data_label"] and cells[3] == str(figures["sample"]["trades"])
        assert cells[6] == f"{figures['performance']['total_return_pct']:+.2f}%"
        assert cells[7] == f"{figures['buy_and_hold_pct']:+.2f}%"
    combined = metrics["combined_non_synthetic"]
    names = combined["playbooks"]
    hold = sum(metrics["playbooks"][n]["buy_and_hold_pct"] for n in names) / len(names)
    ret = 100 * combined["net_pnl"] / sum(metrics["playbooks"][n]["performance"]["start_value"] for n in names)
    text = " ".join(out.split())
    assert f"{ret:+.2f}% of their cash; holding their instruments instead {hold:+.2f}%" in text
    assert "left out as SYNTHETIC: vwap_close_fade" in text
