"""Config validation: every mistake names the file, the dotted path, expected and given."""
from pathlib import Path

import pytest
import yaml

from runner.config import load_config
from runner.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
GOOD = {
    "strategies": [
        {"name": "december_fade", "symbol": "SPX", "data": "sample:sp500", "params": {"rally_pct": 1.5}},
    ]
}


def write(tmp_path, data, name="c.yaml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return path


def error_of(path, overrides=()):
    with pytest.raises(ConfigError) as info:
        load_config(path, overrides)
    return str(info.value)


@pytest.mark.parametrize("shipped", sorted((ROOT / "config").rglob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_config_validates(shipped):
    if "sweeps" in shipped.parts:
        pytest.skip("sweep files are validated by the optimizer tests")
    if shipped.name.startswith("pressure"):   # not a run config: the pressure monitor's files
        from runner.pressure.pressure_config import load_pressure_config

        load_pressure_config(shipped)
        return
    load_config(shipped)


def test_range_error_names_file_path_line_and_value(tmp_path):
    data = {"strategies": [{**GOOD["strategies"][0], "params": {"rally_pct": -1.5}}]}
    message = error_of(write(tmp_path, data))
    assert message.startswith(f"{tmp_path / 'c.yaml'}: strategies[0].params.rally_pct")
    assert "must be > 0 (got -1.5)" in message


def test_unknown_key_suggests_the_right_one(tmp_path):
    data = {**GOOD, "brokr": {"cash": 1}}
    message = error_of(write(tmp_path, data))
    assert "brokr" in message and "unknown key" in message and "did you mean 'broker'" in message


def test_unknown_param_lists_the_playbook_params(tmp_path):
    data = {"strategies": [{**GOOD["strategies"][0], "params": {"raly_pct": 2}}]}
    message = error_of(write(tmp_path, data))
    assert "strategies[0].params.raly_pct" in message and "did you mean 'rally_pct'" in message


def test_unknown_strategy(tmp_path):
    data = {"strategies": [{**GOOD["strategies"][0], "name": "december_fad"}]}
    message = error_of(write(tmp_path, data))
    assert "strategies[0].name" in message and "unknown strategy 'december_fad'" in message


def test_wrong_type(tmp_path):
    data = {**GOOD, "broker": {"cash": "lots"}}
    assert "broker.cash" in (m := error_of(write(tmp_path, data))) and "expected a number (got 'lots')" in m


def test_yaml_syntax_error_gives_the_line(tmp_path):
    path = write(tmp_path, "strategies:\n  - name: december_fade\n    params: {rally_pct: 1.5\n")
    assert error_of(path).startswith(f"{path}: line 4")


@pytest.mark.parametrize("text,needle", [
    ("", "the file is empty"),
    ("- a\n- b\n", "expected a mapping"),
    ("name: x\n", "strategies: required key is missing"),
    ("strategies: []\n", "strategies (line 1): must not be empty"),
])
def test_structure_errors(tmp_path, text, needle):
    assert needle in error_of(write(tmp_path, text))


def test_binary_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    assert "not a text file" in error_of(path) or "invalid YAML" in error_of(path)


def test_set_overrides_by_name_and_index(tmp_path):
    path = write(tmp_path, GOOD)
    cfg = load_config(path, ["strategies.december_fade.params.rally_pct=2.5", "strategies[0].symbol=SPY",
                             "broker.cash=5e4"])
    assert cfg.strategies[0].params["rally_pct"] == 2.5 and cfg.strategies[0].symbol == "SPY"
    assert cfg.broker.cash == 50_000


def test_set_errors(tmp_path):
    path = write(tmp_path, GOOD)
    assert "no item named 'nosuch'" in error_of(path, ["strategies.nosuch.params.x=1"])
    assert "index out of range" in error_of(path, ["strategies.3.symbol=X"])
    assert "strategies[0].params.rally_pct" in error_of(path, ["strategies.0.params.rally_pct=abc"])
