#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""B5 (an overcommitted host): OUT/b5.jsonl and OUT/series/b5-*.tsv to
OUT/b5.md and OUT/b5-*.png (tests/bench/overcommit.sh writes the inputs).

    report-b5.py OUT

Standard library only; the plots need gnuplot (left out with a note without it).
"""
import json
import os
import shutil
import subprocess
import sys

MODES = ["active", "observe", "plain"]
MODE_TEXT = {
    "active": "hocusd, policy active",
    "observe": "hocusd, policy observe (the recipe only)",
    "plain": "plain libvirt domains",
}


def load(out):
    runs, capacity = {}, {}
    with open(os.path.join(out, "b5.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            if r.get("bench") != "B5":
                continue
            (runs if r["phase"] == "run" else capacity)[r["mode"]] = r
    return runs, capacity


def read_series(path):
    """[(t, total_rss_mib, psi_full, psi_some, {guest: (rss_mib, balloon_mib)})]"""
    rows = []
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) < 4:
                continue
            guests = {}
            for g in p[4:]:
                name, rss, bal = g.rsplit(":", 2)
                guests[name] = (int(rss) / 1024, int(bal) / 1024)
            rows.append((float(p[0]), int(p[1]) / 1024, float(p[2]), float(p[3]), guests))
    t0 = rows[0][0] if rows else 0
    return [(t - t0, *rest) for (t, *rest) in rows]


def table(runs, capacity):
    head = ("| configuration | QEMU killed | guest OOM kills | s with PSI full > 10 % "
            "| work (rounds) | peak RSS (MiB) | mean RSS (MiB) | workspaces held |\n"
            "|---|---|---|---|---|---|---|---|\n")
    lines = []
    for m in MODES:
        r, c = runs.get(m), capacity.get(m)
        if r is None:
            continue
        held = "-" if c is None else "%d%s" % (
            c["held"], "" if c["first_death"] != "none" else " (no kill up to %d)" % c["max_tried"])
        lines.append("| %s | %d of %d | %d | %d | %d | %d | %d | %s |" % (
            MODE_TEXT[m], r["qemu_killed"], r["guests"], r["guest_oom_kills"],
            r["psi_full_gt10_s"], r["work_rounds"], r["peak_rss_mib"], r["mean_rss_mib"], held))
    return head + "\n".join(lines) + "\n"


def plot(out, mode, rows):
    if shutil.which("gnuplot") is None or not rows:
        return None
    data = os.path.join(out, "b5-%s.dat" % mode)
    guests = sorted(rows[0][4])
    with open(data, "w") as f:
        for t, total, full, some, g in rows:
            cols = [t, total, full, some]
            for name in guests:
                rss, bal = g.get(name, (0, 0))
                cols += [rss, bal]
            f.write(" ".join("%.2f" % v for v in cols) + "\n")
    png = os.path.join(out, "b5-%s.png" % mode)
    series = ["'%s' using 1:2 with lines lw 2 title 'total RSS'" % data]
    for i, name in enumerate(guests):
        series.append("'%s' using 1:%d with lines title 'RSS %s'" % (data, 5 + 2 * i, name[-7:]))
        series.append("'%s' using 1:%d with lines dt 2 title 'balloon %s'" % (data, 6 + 2 * i, name[-7:]))
    script = "\n".join([
        "set terminal pngcairo size 1000,520",
        "set output '%s'" % png,
        "set title 'B5 %s: RSS, balloons (MiB) and host PSI (%%)'" % MODE_TEXT[mode],
        "set xlabel 'seconds'", "set ylabel 'MiB'", "set y2label 'PSI avg10 %'",
        "set y2tics", "set key outside right",
        "plot " + ", ".join(series) + ", '%s' using 1:3 axes x1y2 with lines lw 2 title 'PSI full',"
        " '%s' using 1:4 axes x1y2 with lines title 'PSI some'" % (data, data),
    ])
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    return os.path.basename(png)


def main(argv):
    if len(argv) != 1:
        sys.exit(__doc__)
    out = argv[0]
    runs, capacity = load(out)
    any_run = next(iter(runs.values()), None)
    text = ["## B5: an overcommitted host", ""]
    if any_run:
        text.append("%d workspaces of 1 GiB under a %d MiB limit on the machine cgroup, %d s of "
                    "the staggered workload (burst, file read, idle) per configuration." % (
                        any_run["guests"], any_run["limit_bytes"] >> 20, any_run["seconds"]))
        text.append("")
    text.append(table(runs, capacity))
    for m in MODES:
        path = os.path.join(out, "series", "b5-%s.tsv" % m)
        if os.path.exists(path):
            png = plot(out, m, read_series(path))
            text.append("![B5 %s](%s)" % (m, png) if png else "(no gnuplot: plot of %s left out)" % m)
    with open(os.path.join(out, "b5.md"), "w") as f:
        f.write("\n".join(text) + "\n")
    print("\n".join(text))


if __name__ == "__main__":
    main(sys.argv[1:])
