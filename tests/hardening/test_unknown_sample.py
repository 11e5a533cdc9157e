"""An unknown embedded sample (``data: sample:nosuch``) is refused when the config is read: config check said
ok, and backtest said only "unknown sample 'nosuch'" without the file or the key."""
from __future__ import annotations

import pytest

from hardening_probe import refuse

CONFIG = "name: s\nstrategies:\n  - name: december_fade\n    symbol: SPX\n    data: {data}\n    feeds: {{bonds: {bonds}}}\n"


@pytest.mark.parametrize("data, bonds, key", [
    ("sample:nosuch", "sample:aaa_bond_proxy", "strategies[0].data.sample"),
    ("sample:SP500", "sample:aaa_bond_proxy", "strategies[0].data.sample"),
    ("'sample: sp500'", "sample:aaa_bond_proxy", "strategies[0].data.sample"),
    ("{sample: ''}", "sample:aaa_bond_proxy", "strategies[0].data.sample"),
    ("sample:sp500", "sample:bonds", "strategies[0].feeds.bonds.sample"),
])
@pytest.mark.parametrize("command", [["config", "check", "c.yaml"], ["backtest", "-c", "c.yaml"]])
def test_an_unknown_sample_is_refused_naming_the_file_and_key(data, bonds, key, command, tmp_path, capsys,
                                                             monkeypatch):
    (tmp_path / "c.yaml").write_text(CONFIG.format(data=data, bonds=bonds))
    message = refuse(command, tmp_path, tmp_path, capsys, monkeypatch, data)
    assert "c.yaml" in message and key in message and "unknown sample" in message, message


@pytest.mark.parametrize("value", ["sample:nosuch", "{sample: x}"])
def test_an_unknown_sample_from_set_names_the_option(value, tmp_path, capsys, monkeypatch):
    (tmp_path / "c.yaml").write_text(CONFIG.format(data="sample:sp500", bonds="sample:aaa_bond_proxy"))
    message = refuse(["config", "check", "c.yaml", "--set", f"strategies.0.data={value}"], tmp_path, tmp_path,
                     capsys, monkeypatch, value)
    assert "--set" in message and "unknown sample" in message, message


def test_the_light_list_of_samples_is_the_loaders_list():
    from runner.data.sample import sample_names
    from runner.data.sample_list import SAMPLE_NAMES

    assert list(SAMPLE_NAMES) == sample_names()
