"""Hostile roster workbooks: time and peak memory until each is refused.

`python -m bench.hostile` prints one JSON line last:
{"runs": [{"file": ..., "kb": ..., "seconds": ..., "peak_mb": ..., "refused": ...}, ...]}
Each file is parsed in a fresh process, so peak memory is that parse's own.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

CASES = ("last_cell", "millions_of_rows", "200k_rows", "late_row", "wide_rows", "at_cell_budget")


def one(case: str) -> dict[str, object]:
    from program.roster.parsing import RosterFileError, parse_roster
    from tests.roster import hostile

    data = {
        "last_cell": hostile.last_cell_workbook,
        "millions_of_rows": hostile.millions_of_rows_workbook,
        # Under the unpacked-size limit: refused by the row count, while reading.
        "200k_rows": lambda: hostile.millions_of_rows_workbook(200_000),
        "late_row": hostile.last_cell_within_size_workbook,
        # 49,000 rows of 100 cells: within the rows, columns and bytes, refused by the cells.
        "wide_rows": hostile.wide_rows_workbook,
        # A legitimate workbook just under the cell budget: read, not refused.
        "at_cell_budget": lambda: hostile.wide_rows_workbook(rows=49_999, columns=8),
    }[case]()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    try:
        parse_roster(data, "roster.xlsx")
        refused = ""
    except RosterFileError as exc:
        refused = str(exc)
    seconds = time.perf_counter() - start
    peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    return {
        "file": case,
        "kb": round(len(data) / 1024, 1),
        "seconds": round(seconds, 3),
        "peak_mb": round(peak, 1),
        "refused": refused,
    }


def main() -> None:
    if len(sys.argv) > 1:
        print(json.dumps(one(sys.argv[1])))
        return
    runs = []
    for case in CASES:
        out = subprocess.run(  # noqa: S603  (our own interpreter, fixed arguments)
            [sys.executable, "-m", "bench.hostile", case],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
        print(f"{case}: {runs[-1]}", file=sys.stderr)
    print(json.dumps({"runs": runs}))


if __name__ == "__main__":
    main()
