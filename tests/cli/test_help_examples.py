"""Every example of every --help is a command line flowbot accepts, and the rehearsal examples point
flowbot paper at the port the simulated gateway listens on."""
import shlex

import pytest

from runner.cli import build_parser
from runner.commands.help_text import HELP


def _flowbot_commands(example: str) -> list[list[str]]:
    """The flowbot invocations of an example line (split at & and |), without the leading 'flowbot'."""
    found = []
    for part in example.replace("|", "&").split("&"):
        words = shlex.split(part)
        if words and words[0] == "flowbot":
            found.append(words[1:])
    return found


EXAMPLES = [(name, command) for name, (_, examples) in HELP.items() for command, _ in examples]


@pytest.mark.parametrize("name, example", EXAMPLES)
def test_every_help_example_parses(name, example):
    parser = build_parser()
    for argv in _flowbot_commands(example):
        try:
            parser.parse_args(argv)
        except SystemExit as exc:   # argparse's way of refusing a command line
            pytest.fail(f"{name} --help example {example!r}: flowbot {' '.join(argv)} is refused ({exc.code})")


@pytest.mark.parametrize("name, example", [(n, e) for n, e in EXAMPLES if "gateway-sim" in e and "paper" in e])
def test_rehearsal_examples_connect_paper_to_the_simulator(name, example):
    sim, paper = _flowbot_commands(example)
    sim_port = build_parser().parse_args(sim).port
    assert f"ib.port={sim_port}" in paper, (name, example)


@pytest.mark.parametrize("name", sorted(HELP))
def test_descriptions_are_wrapped_to_the_terminal(name, monkeypatch, capsys):
    from runner.cli import main

    monkeypatch.setenv("COLUMNS", "80")
    assert main([*name.split(), "--help"]) == 0
    out = capsys.readouterr().out
    description = out.split("\n\n")[1]   # after the usage block
    assert HELP[name][0].split()[0] in description
    assert max(len(line) for line in description.splitlines()) <= 80, description
