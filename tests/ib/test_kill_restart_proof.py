"""Issue 10's proof: `flowbot paper` killed with SIGKILL at seeded random points across entries, fills
and exits, restarted each time (the same day, or the next day on the simulator's clock), ends with the
account where the journal and the strategies say it is: no orderRef sent twice, no position left
without its stop, flat after the exits, every order final, every fill journaled.

The kill points are the simulator's own messages to the bot about its orders (statuses, executions,
commission reports, errors) and its session opens and closes: the simulator stands still on the chosen
message while the process is killed, so a point is a place in the event stream, never a time. Each kill
aims at a phase: an entry order's messages, the entry's fills (executions, commission reports), or an
exit order's messages (at its n-th message, n seeded); a phase that does not come within ten session
closes is replaced by the tenth close (and says so): working exits are silent at the gateway until one is
elected or the time exit goes out, up to eight sessions after a quarter-end fade's entry. Two windows with two trades each (see SCENARIOS).
The restarts alternate between ib_insync and ib_async over one journal. After every restart, once live:
every position has its stop working, the account's positions are what the journal's fills add up to and
what the bot reports (status.json), and every order of the bot working at the gateway is held by a
playbook.

Always on: 3 kills per window (6 in all, one in each phase per window, both libraries, same day and next
day; about 2.5 minutes on a loaded machine). FLOWBOT_KILL_PROOF=1 runs the full proof instead: 10 kills
per window (20 in all: at the first trade's entry, fill and exit messages, then at seven further points of the stream,
order messages or session opens and closes; the n-th message and the restarts seeded),
about 5 minutes.
"""
from __future__ import annotations

import os
import random

import pytest

from conftest import LIBRARIES
from kill_harness import PHASES, SCENARIOS, check_final_state, run_kills

SEED = 20261210
FULL = os.environ.get("FLOWBOT_KILL_PROOF") == "1"
KILLS_PER_SCENARIO = 10 if FULL else 3


def kill_plan(rng: random.Random) -> list[tuple[str, int, str]]:
    """(phase, n-th message of it, same day | next day) per kill, phases in the order a trade goes through
    them; each phase and both kinds of restart appear.

    The entry and fill kills restart the same day, the exit kill the next day. A next-day restart after an
    entry or fill kill lets the whole trade run while the bot is away (a next-open entry fills at the open the
    restart skips, and its attached target or stop can fill that same day): the gateway then reports
    neither (executions of the current day only), and the phases after it find nothing to stand on. The
    exit kill's next-day restart finds the entry filled on an earlier day, known from the journal only
    (defect 3). The further kills ("any", full proof) are seeded, two of them next day.
    """
    phases = list(PHASES)
    rest: list[str] = []
    if FULL:   # "any": the next message of any order, or a session open or close
        phases += ["any"] * (KILLS_PER_SCENARIO - len(PHASES))
        rest = ["next day"] * 2 + ["same day"] * (KILLS_PER_SCENARIO - 5)
        rng.shuffle(rest)
    whens = ["same day", "same day", "next day"] + rest
    return [(phase, 1 if phase == "fill" else rng.choice([1, 1, 2]), when) for phase, when in zip(phases, whens)]


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_kill_9_at_random_points_then_restart_leaves_the_account_as_journal_and_strategy_say(scenario, tmp_path):
    rng = random.Random(f"{SEED}:{scenario}:{KILLS_PER_SCENARIO}")
    plan = kill_plan(rng)
    kills, orders, fills, positions = run_kills(scenario, plan, tmp_path, lambda k: LIBRARIES[k % 2])
    print(f"{scenario}: {len(kills)} kills, {len(kills) + 1} runs:", *kills, sep="\n  ")
    assert len(kills) == KILLS_PER_SCENARIO
    assert {lib for _, lib, _ in kills} == set(LIBRARIES) and {w for _, _, w in kills} == {"same day", "next day"}
    assert {at.split(":")[0] for at, _, _ in kills} >= set(PHASES), f"every phase killed at: {kills}"
    check_final_state(scenario, tmp_path / "journal.sqlite", orders, fills, positions, kills)
