"""Figure building: ``mlcore.plots.fast`` (plain dicts, one unvalidated ``go.Figure``) against the
same builder code run with real validated plotly (``fast.validated()``), in this same run.

    python -m bench.bench_figures [--repeats 5]

The inputs are the cases of ``tests/unit/test_plots_fast.py`` (the test asserts that both ways
give equal ``to_dict()``). Each case is timed as the page calls it (some cases compute their small
record inside, which both columns pay); medians over ``--repeats`` after one warm-up. The ratio
column (validated / fast) is what matters: one server process rebuilds these figures on every
rerun of every student's page.
"""

from __future__ import annotations

import argparse
from collections import defaultdict

from mlcore.plots import fast


from bench.bench_course import timed  # (median of repeats after one warm-up call)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    from tests.unit.test_plots_fast import CASES

    CASES = [(name, make) for name, make in CASES if not name.startswith("api:")]  # builders only

    rows: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for name, make in CASES:
        t_fast = timed(make, args.repeats)
        with fast.validated():
            t_valid = timed(make, args.repeats)
        rows[name].append((t_fast, t_valid))
    print(f"{'builder':28s} {'cases':>5s} {'fast ms':>9s} {'validated ms':>13s} {'ratio':>7s}")
    total_f = total_v = 0.0
    for name, times in rows.items():
        f = sum(t for t, _ in times) / len(times) * 1000
        v = sum(t for _, t in times) / len(times) * 1000
        total_f += sum(t for t, _ in times)
        total_v += sum(t for _, t in times)
        print(f"{name:28s} {len(times):5d} {f:9.2f} {v:13.2f} {v / f:7.1f}")
    print(f"{'all cases (sum)':28s} {len(CASES):5d} {total_f * 1000:9.1f} {total_v * 1000:13.1f} "
          f"{total_v / total_f:7.1f}")


if __name__ == "__main__":
    main()
