"""One definition of the best run: ties go to the lower run id, whatever order the workers finish in."""
from types import SimpleNamespace

from runner.optimize.ranking import best_row, better, ranked_rows

MAXIMIZE, MINIMIZE = SimpleNamespace(maximize=True), SimpleNamespace(maximize=False)


def row(run, objective, feasible=True):
    return {"run": run, "objective": objective, "feasible": feasible}


def kept_while_arriving(plan, rows):
    best = None
    for r in rows:
        if better(plan, r, best):
            best = r
    return best


def test_a_tie_goes_to_the_lower_run_whatever_the_arrival_order():
    arrivals = [row(5, 1.0), row(0, 0.5), row(3, 1.0), row(1, None), row(2, 2.0, feasible=False)]
    for rows in (arrivals, arrivals[::-1]):
        assert kept_while_arriving(MAXIMIZE, rows)["run"] == 3
        assert best_row(MAXIMIZE, rows)["run"] == 3
        assert [r["run"] for r in ranked_rows(MAXIMIZE, rows)] == [3, 5, 0]


def test_minimizing_ranks_the_smallest_first():
    rows = [row(4, -1.0), row(2, -3.0), row(1, -3.0)]
    assert kept_while_arriving(MINIMIZE, rows)["run"] == 1 == best_row(MINIMIZE, rows)["run"]


def test_nothing_feasible_has_no_best():
    rows = [row(0, None), row(1, 1.0, feasible=False)]
    assert best_row(MAXIMIZE, rows) is None and kept_while_arriving(MAXIMIZE, rows) is None
