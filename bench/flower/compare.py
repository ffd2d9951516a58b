#!/usr/bin/python3
"""Table of Flower / fedb2b times from an interleaved run (bench/flower/run.sh).

Each run gives, per cell, the fastest of its iterations (ms-min, both
sides); the table shows the median over runs of each side and their ratio,
and whether issue #19's target holds (client >= 10x, server >= 20x).

    /usr/bin/python3 bench/flower/compare.py OUTDIR
"""

import glob
import os
import re
import statistics
import sys

# Go: "BenchmarkSuite/<cell>-2  8  ... 1.95 ms-min ..."; Flower: "flower <cell> ms-min 35.6 ..."
GO = re.compile(r"^BenchmarkSuite/(\S+?)(?:-\d+)?\s.*?([\d.]+) ms-min")
FLOWER = re.compile(r"^flower (\S+) ms-min ([\d.]+)")


def read(pattern, line_re):
    """cell -> {run number: ms} from the files OUTDIR/<side>.<run>.txt."""
    cells = {}
    for path in glob.glob(pattern):
        run = int(path.rsplit(".", 2)[-2])
        with open(path) as fh:
            for line in fh:
                m = line_re.match(line)
                if m:
                    cells.setdefault(m.group(1), {})[run] = float(m.group(2))
    return cells


def main():
    out = sys.argv[1]
    fl = read(os.path.join(out, "flower.*.txt"), FLOWER)
    go = read(os.path.join(out, "go.*.txt"), GO)
    print(
        "| cell | Flower ms (median) | fedb2b ms (median) | runs "
        "| Flower / fedb2b | same-round ratios, min–max | target | met |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    missed = 0
    for cell in sorted(fl, key=order):
        if cell not in go:
            continue
        f, g = statistics.median(fl[cell].values()), statistics.median(go[cell].values())
        paired = [fl[cell][r] / go[cell][r] for r in fl[cell] if r in go[cell]]
        target = 10 if cell.startswith("client") else 20
        ok = f / g >= target
        missed += not ok
        print(
            f"| {cell} | {f:.1f} | {g:.2f} | {len(fl[cell])}/{len(go[cell])} "
            f"| {f / g:.1f}x | {min(paired):.1f}–{max(paired):.1f}x | {target}x "
            f"| {'yes' if ok else '**no**'} |"
        )
    print(f"\ncells missing the target: {missed}")


def order(cell):
    d = re.search(r"d=([\d.e+]+)", cell).group(1)
    k = int(re.search(r"k=(\d+)", cell).group(1))
    return (float(d), k, cell)


if __name__ == "__main__":
    main()
