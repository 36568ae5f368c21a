#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Turn a benchmark run's raw figures into results.json, report.md and plots.

    report.py OUT                         write OUT/results.json, OUT/report.md, OUT/*.png
    report.py --publish DOC OUT           replace the report section of DOC (docs/performance.md)

OUT holds what tests/bench/run.sh wrote: machine.json, raw.jsonl (one JSON
object per measurement) and series/*.tsv ("time config rss_kib" every 200 ms).
Standard library only; the plots need gnuplot (skipped with a note without it).
"""
import json
import math
import os
import shutil
import subprocess
import sys

CONFIGS = ["A", "B", "C", "D"]
CONFIG_TEXT = {
    "A": "hocusd workspace: full recipe, agent reclaim",
    "B": "plain libvirt domain: balloon without free page reporting, default cmdline",
    "C": "B + free page reporting, kernel's default order",
    "D": "A without the agent's reclaim (hocus.reclaim=0)",
}
WINDOW_S = 30.0             # how long after the job RSS is followed
HOST_RESERVE_GIB = 2        # kept for the host itself in the density extrapolation
HOSTS_GIB = [64, 256]
TARGETS = {                 # ../shared/design.md, "Targets"
    "reclaim_95_s": 5.0,
    "cache_within_pct": 10.0,
    "footprint": 1.15,
    "daemon_cpu_pct": 1.0,
    "daemon_rss_mib": 16.0,
    "dump_ms": 20.0,
}
BEGIN, END = "<!-- report:begin -->", "<!-- report:end -->"


# ---- pure figures (tests/bench/test-report.py checks these) ----

def summary(values):
    """Median, min and max of a list; None means "not reached" and sorts last."""
    vals = sorted(values, key=lambda v: math.inf if v is None else v)
    if not vals:
        return None
    n = len(vals)
    mid = vals[n // 2] if n % 2 else _mean2(vals[n // 2 - 1], vals[n // 2])
    return {"median": mid, "min": vals[0], "max": vals[-1], "n": n}


def _mean2(a, b):
    return None if a is None or b is None else (a + b) / 2


def reclaim_figures(samples, t_start, t_end, freed_mib, window=WINDOW_S):
    """Figures of one job from (time, rss_kib) samples of one guest.

    base: median RSS before the job started; peak: highest RSS up to the end
    of the job. What "returned" is measured against: the memory the guest
    freed (freed_mib) or, when that is 0 (page cache), the growth peak - base.
    Times are seconds after the job's end; None when not reached in window.
    """
    before = [r for t, r in samples if t < t_start]
    during = [r for t, r in samples if t <= t_end]
    after = [(t - t_end, r) for t, r in samples if t_end < t <= t_end + window]
    if not during or not after:
        raise ValueError("the series does not cover the job and the %.0f s after it" % window)
    base = summary(before)["median"] if before else during[0]
    peak = max(during)
    denom = freed_mib * 1024 if freed_mib > 0 else max(peak - base, 1)

    def first(pred):
        return next((round(dt, 2) for dt, r in after if pred(r)), None)

    last = after[-1][1]
    returned = peak - last
    return {
        "base_mib": base / 1024,
        "peak_mib": peak / 1024,
        "growth_mib": (peak - base) / 1024,
        "s_to_50": first(lambda r: peak - r >= 0.50 * denom),
        "s_to_90": first(lambda r: peak - r >= 0.90 * denom),
        "s_to_95": first(lambda r: peak - r >= 0.95 * denom),
        "s_to_within_10pct_of_base": first(lambda r: r <= base * 1.10),
        "returned_pct_30s": 100.0 * returned / denom,
        "residual_mib_30s": max(denom - returned, 0) / 1024,
        "rss_30s_mib": last / 1024,
        "above_base_mib_30s": (last - base) / 1024,
    }


def density(rss_mib, host_gib, reserve_gib=HOST_RESERVE_GIB):
    """Idle workspaces of this RSS that fit in a host: floor((H - R) / rss)."""
    return int((host_gib - reserve_gib) * 1024 // rss_mib) if rss_mib > 0 else None


# ---- reading a run ----

def read_series(path):
    by_config = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 3:
                continue            # a line cut short when the sampler was stopped
            t, config, rss = parts
            by_config.setdefault(config, []).append((float(t), int(rss)))
    return by_config


def analyse(out):
    with open(os.path.join(out, "machine.json")) as f:
        machine = json.load(f)
    with open(os.path.join(out, "raw.jsonl")) as f:
        raw = [json.loads(line) for line in f if line.strip()]
    series_cache = {}
    results = {"machine": machine, "reclaim": {}, "idle": {}, "daemon": {}}

    jobs = {}
    for r in raw:
        if r["bench"] in ("anon", "frag", "cache"):
            if r["series"] not in series_cache:
                series_cache[r["series"]] = read_series(os.path.join(out, r["series"]))
            samples = series_cache[r["series"]].get(r["config"], [])
            fig = reclaim_figures(samples, r["t_start"], r["t_end"], r["freed_mib"])
            jobs.setdefault(r["bench"], {}).setdefault(r["config"], []).append(fig)
    for scenario, per_config in jobs.items():
        results["reclaim"][scenario] = {
            c: {k: summary([f[k] for f in figs]) for k in figs[0]} for c, figs in per_config.items()
        }

    idle = {}
    for r in raw:
        if r["bench"] == "idle":
            rss = summary(r["rss_kib"])["median"] / 1024
            used = r["guest_used_kib"] / 1024
            cached = r["guest_cached_kib"] / 1024
            idle.setdefault(r["config"], []).append(
                {"rss_mib": rss, "guest_used_mib": used, "guest_cached_mib": cached,
                 # QEMU itself, TCG's translation cache, guest free pages not given back
                 "beyond_guest_mib": rss - used - cached,
                 "footprint": rss / used if used else None})
    for c, ws in idle.items():
        s = {k: summary([w[k] for w in ws]) for k in ws[0]}
        s["hosts"] = {str(h): density(s["rss_mib"]["median"], h) for h in HOSTS_GIB}
        results["idle"][c] = s

    daemon = {}
    for r in raw:
        if r["bench"] != "B4":
            continue
        d = daemon.setdefault(str(r["n"]), {"cpu": [], "dbus": None, "virsh_ms": None})
        if r["kind"] == "cpu":
            d["cpu"].append(r)
        elif r["kind"] == "dbus":
            d["dbus"] = r["calls"]
        elif r["kind"] == "domstats":
            d["virsh_ms"] = r["virsh_ms"]
    for n, d in daemon.items():
        ticks = [c["wall_s"] / c["interval_s"] for c in d["cpu"]]
        results["daemon"][n] = {
            "cpu_pct_of_core": summary([100 * c["cpu_s"] / c["wall_s"] for c in d["cpu"]]),
            "cpu_ms_per_tick": summary([1000 * c["cpu_s"] / t for c, t in zip(d["cpu"], ticks)]),
            "rss_mib": summary([c["rss_kib"] / 1024 for c in d["cpu"]]),
            "sample_lag_s": summary([c["wall_s"] - c["sample_advance_s"] for c in d["cpu"]]),
            "ready_s": d["cpu"][0]["ready_s"] if d["cpu"] else None,
            "ping_ms": summary(d["dbus"]["ping_ms"]) if d["dbus"] else None,
            "managed_objects_ms": summary(d["dbus"]["get_managed_objects_ms"]) if d["dbus"] else None,
            "managed_objects_kib": d["dbus"]["get_managed_objects_bytes"] / 1024 if d["dbus"] else None,
            "get_metrics_ms": summary(d["dbus"]["get_metrics_ms"]) if d["dbus"] else None,
            "get_metrics_kib": d["dbus"]["get_metrics_bytes"] / 1024 if d["dbus"] else None,
            "managed_objects_gdbus_floor_ms": gdbus_floor(d["dbus"], "get_managed_objects"),
            "get_metrics_gdbus_floor_ms": gdbus_floor(d["dbus"], "get_metrics"),
            "virsh_domstats_ms": summary(d["virsh_ms"]) if d["virsh_ms"] else None,
        }
    timing = os.path.join(out, "timing.json")
    if os.path.exists(timing):
        with open(timing) as f:
            results["runner_seconds"] = json.load(f).get("runner_seconds")
    return results, series_cache, raw


# ---- the report ----

def fmt(s, digits=1, unit=""):
    """'median (min-max)' of a summary; '> 30 s' for a time never reached."""
    if s is None:
        return "-"

    def one(v):
        if v is None:
            return "> %.0f s" % WINDOW_S if unit == "s" else "-"
        return ("%." + str(digits) + "f") % v
    if s["n"] == 1 or s["min"] == s["max"]:
        return one(s["median"])
    return "%s (%s-%s)" % (one(s["median"]), one(s["min"]), one(s["max"]))


def ratio(a, b):
    """a / b of two medians, as 'x.yx'; '-' when either is missing or b is 0."""
    if a is None or b is None or a["median"] is None or b["median"] is None or b["median"] == 0:
        return "-"
    return "%.2fx" % (a["median"] / b["median"])


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def headline(res):
    rec, idle = res["reclaim"], res["idle"]
    rows = []

    def row(label, scenario, key, digits=1, unit=""):
        src = rec.get(scenario) if scenario != "idle" else idle
        if not src:
            return
        rows.append([label] + [fmt(src.get(c, {}).get(key), digits, unit) for c in CONFIGS])

    row("B1 anon 600 MiB: s to 90 % back", "anon", "s_to_90", 1, "s")
    row("B1 anon: s to 95 % back", "anon", "s_to_95", 1, "s")
    row("B1 anon: residual after 30 s (MiB)", "anon", "residual_mib_30s", 0)
    row("B1 frag 300 MiB: s to 50 % back", "frag", "s_to_50", 1, "s")
    row("B1 frag: s to 90 % back", "frag", "s_to_90", 1, "s")
    row("B1 frag: residual after 30 s (MiB)", "frag", "residual_mib_30s", 0)
    row("B2 cache 400 MiB: s to within 10 % of before", "cache", "s_to_within_10pct_of_base", 1, "s")
    row("B2 cache: above before after 30 s (MiB)", "cache", "above_base_mib_30s", 0)
    row("B3 idle: host RSS per workspace (MiB)", "idle", "rss_mib", 0)
    row("B3 idle: guest used (MiB)", "idle", "guest_used_mib", 0)
    row("B3 idle: guest page cache, initramfs included (MiB)", "idle", "guest_cached_mib", 0)
    row("B3 idle: RSS beyond guest used + cache (MiB)", "idle", "beyond_guest_mib", 0)
    row("B3 idle: footprint (RSS / guest used)", "idle", "footprint", 2)
    if idle:
        for h in HOSTS_GIB:
            rows.append(["B3: idle workspaces on a %d GiB host (extrapolated)" % h] +
                        [str(idle.get(c, {}).get("hosts", {}).get(str(h), "-")) for c in CONFIGS])
    # Ratios of medians within this run, against A.
    for label, src, key in [("B1 anon: RSS 30 s after the free", rec.get("anon"), "rss_30s_mib"),
                            ("B1 frag: RSS 30 s after the free", rec.get("frag"), "rss_30s_mib"),
                            ("B2 cache: RSS 30 s after the read", rec.get("cache"), "rss_30s_mib"),
                            ("B3 idle RSS", idle, "rss_mib")]:
        if src and "A" in src:
            rows.append([label + ", ratio to A"] +
                        [ratio(src.get(c, {}).get(key), src["A"][key]) for c in CONFIGS])
    return table(["figure (median (min-max))"] + CONFIGS, rows)


def gdbus_floor(calls, label):
    """What GDBus alone spends on a call's reply, call by call: serialising it
    in the service plus parsing it in the client (older runs: serialising only)."""
    if not calls or label + "_serialize_ms" not in calls:
        return None
    ser = calls[label + "_serialize_ms"]
    parse = calls.get(label + "_parse_ms", [0.0] * len(ser))
    # -1 marks a reply that GDBus failed to serialise or parse: no figure.
    return summary([s + p for s, p in zip(ser, parse) if s >= 0 and p >= 0])


def daemon_table(res):
    rows = []
    for n in sorted(res["daemon"], key=int):
        d = res["daemon"][n]
        rows.append([n, fmt(d["cpu_pct_of_core"], 2), fmt(d["cpu_ms_per_tick"], 1), fmt(d["rss_mib"], 1),
                     fmt(d["managed_objects_ms"], 1), fmt(d.get("managed_objects_gdbus_floor_ms"), 1),
                     fmt(d["get_metrics_ms"], 1), fmt(d.get("get_metrics_gdbus_floor_ms"), 1),
                     fmt(d["ping_ms"], 2), fmt(d["virsh_domstats_ms"], 2),
                     ratio(d["cpu_ms_per_tick"], d["virsh_domstats_ms"])])
    return table(["workspaces", "CPU % of a core", "CPU ms per tick", "RSS MiB",
                  "GetManagedObjects ms", "its GDBus serialise + parse ms (floor)",
                  "GetMetrics ms", "its GDBus serialise + parse ms (floor)", "Ping ms (floor)",
                  "virsh domstats ms (floor)", "tick CPU / domstats"], rows)


def fit(xs, ys):
    """Least-squares line y = slope * x + intercept, and its R squared."""
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    intercept = my - slope * mx
    ss_tot = sum((y - my) ** 2 for y in ys)
    ss_res = sum((y - (slope * x + intercept)) ** 2 for x, y in zip(xs, ys))
    return {"slope": slope, "intercept": intercept, "r2": 1.0 if ss_tot == 0 else 1 - ss_res / ss_tot}


GROWTH = [("CPU ms per tick", "cpu_ms_per_tick", 1000, "µs"),
          ("RSS MiB", "rss_mib", 1024, "KiB"),
          ("GetManagedObjects ms", "managed_objects_ms", 1000, "µs"),
          ("GetMetrics ms", "get_metrics_ms", 1000, "µs"),
          ("virsh domstats ms (floor)", "virsh_domstats_ms", 1000, "µs")]


def growth_table(res):
    """Each figure's median against the number of workspaces, fitted to a line."""
    rows = []
    sizes = sorted(res["daemon"], key=int)
    for label, key, scale, unit in GROWTH:
        pts = [(int(n), res["daemon"][n][key]["median"]) for n in sizes
               if res["daemon"][n].get(key) and res["daemon"][n][key]["median"] is not None]
        f = fit([p[0] for p in pts], [p[1] for p in pts])
        if f is None:
            continue
        rows.append([label, "%.2f %s" % (f["slope"] * scale, unit), "%.2f" % f["intercept"],
                     "%.4f" % f["r2"], ", ".join(str(p[0]) for p in pts)])
    return table(["figure", "per workspace (slope)", "at 0 workspaces (intercept)", "R squared",
                  "sizes fitted"], rows)


def targets_table(res):
    rows = []
    a = res["reclaim"]
    if "anon" in a and "A" in a["anon"]:
        v = a["anon"]["A"]["s_to_95"]["median"]
        rows.append(["A: >= 95 % of freed anonymous memory back within 5 s", fmt(a["anon"]["A"]["s_to_95"], 1, "s"),
                     "met" if v is not None and v <= TARGETS["reclaim_95_s"] else "not met"])
    if "frag" in a and "A" in a["frag"]:
        v = a["frag"]["A"]["s_to_95"]["median"]
        rows.append(["A: the same for a fragmented free", fmt(a["frag"]["A"]["s_to_95"], 1, "s"),
                     "met" if v is not None and v <= TARGETS["reclaim_95_s"] else "not met"])
    if "cache" in a and "A" in a["cache"]:
        v = a["cache"]["A"]["s_to_within_10pct_of_base"]["median"]
        rows.append(["A: back within 10 % of the pre-job RSS within 30 s after a 400 MiB read",
                     fmt(a["cache"]["A"]["s_to_within_10pct_of_base"], 1, "s"),
                     "met" if v is not None else "not met"])
    if "A" in res["idle"]:
        v = res["idle"]["A"]["footprint"]["median"]
        rows.append(["A: idle host RSS <= 1.15 x guest used", fmt(res["idle"]["A"]["footprint"], 2),
                     "met" if v is not None and v <= TARGETS["footprint"] else "not met"])
    if "1000" in res["daemon"]:
        d = res["daemon"]["1000"]
        v = d["cpu_ms_per_tick"]["median"] if d["cpu_ms_per_tick"] else None
        floor = d["virsh_domstats_ms"]["median"] if d["virsh_domstats_ms"] else None
        rows.append(["issue 12: tick CPU <= 2x the virsh domstats floor (1000)",
                     ratio(d["cpu_ms_per_tick"], d["virsh_domstats_ms"]),
                     "met" if v is not None and floor and v <= 2 * floor else "not met"])
        for label, key, limit in [("issue 12: RSS <= 32 MiB (1000)", "rss_mib", 32),
                                  ("issue 12: GetMetrics <= 25 ms (1000)", "get_metrics_ms", 25),
                                  ("issue 12: GetManagedObjects <= 25 ms (1000)", "managed_objects_ms", 25)]:
            v = d[key]["median"] if d[key] else None
            rows.append([label, fmt(d[key], 1), "met" if v is not None and v <= limit else "not met"])
        for label, key, limit in [("1000 workspaces at 1 s: < 1 % of a core", "cpu_pct_of_core", TARGETS["daemon_cpu_pct"]),
                                  ("hocusd RSS < 16 MiB (1000 workspaces)", "rss_mib", TARGETS["daemon_rss_mib"]),
                                  ("full ObjectManager dump < 20 ms (1000)", "managed_objects_ms", TARGETS["dump_ms"])]:
            v = d[key]["median"] if d[key] else None
            rows.append([label, fmt(d[key], 2), "met" if v is not None and v < limit else "not met"])
    return table(["target (design.md)", "measured", ""], rows)


def write_report(out, res, plots):
    m = res["machine"]
    lines = [
        "# hocusd benchmark report",
        "",
        "Run of %s at commit `%s`; every figure is the median of %d repetitions with "
        "(min-max) where they differ." % (m["date"], m["commit"], m["reps"]),
        "",
        "Machine: %s, %d cores, %.1f GiB RAM, guests under **%s**%s; host kernel %s; %s; %s." % (
            m["cpu"], m["cores"], m["mem_kib"] / 1048576, m["accel"],
            " (%s)" % m["accel_reason"] if m.get("accel_reason") else "",
            m["host_kernel"], m["qemu"], "libvirt " + m["libvirt"]),
    ]
    if res.get("runner_seconds") is not None:
        lines.append("The run took %d min %d s." % divmod(res["runner_seconds"], 60))
    lines += ["", "Configurations (one guest each, booted side by side from the same kernel and initramfs, "
              "1 GiB, 1 vCPU):", ""]
    lines += ["- **%s**: %s" % (c, CONFIG_TEXT[c]) for c in CONFIGS]
    if res["reclaim"] or res["idle"]:
        lines += ["", "## Headline: A vs B vs C vs D", "", headline(res)]
    if res["daemon"]:
        lines += ["", "## B4: hocusd's own cost (libvirt test driver in libvirtd, sampled every 1 s)", "",
                  daemon_table(res)]
        if len(res["daemon"]) >= 2:
            lines += ["", "Growth with the number of workspaces (least-squares line through the medians):",
                      "", growth_table(res)]
    lines += ["", "## Against the design targets", "", targets_table(res)]
    if plots:
        lines += ["", "## Plots (repetition 1)", ""]
        lines += ["![%s](%s)" % (title, name) for name, title in plots]
    lines += ["", "Raw figures: `raw.jsonl` and `series/`; computed figures: `results.json`.", ""]
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(lines))


# ---- plots (gnuplot) ----

def gnuplot(script):
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


def plot_jobs(out, raw, series_cache):
    """RSS against time since the job ended, one curve per configuration."""
    plots = []
    titles = {"anon": "B1: 600 MiB allocated and freed", "frag": "B1: 300 MiB freed in 4 KiB pieces",
              "cache": "B2: 400 MiB read into the page cache, then idle"}
    for scenario, title in titles.items():
        recs = {r["config"]: r for r in raw if r["bench"] == scenario and r["rep"] == 1}
        if not recs:
            continue
        curves = []
        for c in CONFIGS:
            if c not in recs:
                continue
            r = recs[c]
            dat = os.path.join(out, "plot-%s-%s.dat" % (scenario, c))
            with open(dat, "w") as f:
                for t, rss in series_cache[r["series"]].get(c, []):
                    if r["t_start"] - 2 <= t <= r["t_end"] + WINDOW_S:
                        f.write("%.2f %.1f\n" % (t - r["t_end"], rss / 1024))
            curves.append("'%s' using 1:2 with lines lw 2 title '%s'" % (dat, c))
        png = "%s.png" % scenario
        gnuplot("set terminal pngcairo size 900,500\nset output '%s'\nset title '%s'\n"
                "set xlabel 'seconds after the job ended'\nset ylabel 'QEMU RSS (MiB)'\n"
                "set key top right\nset grid\nplot %s\n" % (os.path.join(out, png), title, ", ".join(curves)))
        plots.append((png, title))
    return plots


def plot_daemon(out, res):
    if not res["daemon"]:
        return []
    dat = os.path.join(out, "plot-daemon.dat")
    with open(dat, "w") as f:
        for n in sorted(res["daemon"], key=int):
            d = res["daemon"][n]
            med = lambda s: s["median"] if s and s["median"] is not None else float("nan")
            f.write("%s %f %f %f %f\n" % (n, med(d["cpu_ms_per_tick"]), med(d["managed_objects_ms"]),
                                          med(d["get_metrics_ms"]), med(d["virsh_domstats_ms"])))
    png = "daemon.png"
    gnuplot("set terminal pngcairo size 900,500\nset output '%s'\n"
            "set title 'B4: hocusd cost against the number of workspaces'\n"
            "set logscale xy\nset xlabel 'workspaces'\nset ylabel 'milliseconds'\nset grid\nset key top left\n"
            "plot '%s' using 1:2 with linespoints lw 2 title 'hocusd CPU per tick', "
            "'' using 1:3 with linespoints lw 2 title 'GetManagedObjects', "
            "'' using 1:4 with linespoints lw 2 title 'GetMetrics', "
            "'' using 1:5 with linespoints lw 2 title 'virsh domstats (floor)'\n"
            % (os.path.join(out, png), dat))
    return [(png, "B4: hocusd cost against the number of workspaces")]


# ---- main ----

def publish(doc, out):
    """Replace the text between the report markers of DOC with OUT's report;
    its plots are copied next to DOC under performance/."""
    with open(os.path.join(out, "report.md")) as f:
        report = f.read()
    img_dir = os.path.join(os.path.dirname(doc), "performance")
    os.makedirs(img_dir, exist_ok=True)
    for name in sorted(os.listdir(out)):
        if name.endswith(".png"):
            shutil.copy(os.path.join(out, name), os.path.join(img_dir, name))
            report = report.replace("](%s)" % name, "](performance/%s)" % name)
    report = report.replace("# hocusd benchmark report", "## Latest report", 1)
    report = "\n".join("#" + l if l.startswith("## ") and not l.startswith("## Latest") else l
                       for l in report.split("\n"))
    with open(doc) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        sys.exit("report.py: %s lacks the %s ... %s markers" % (doc, BEGIN, END))
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    with open(doc, "w") as f:
        f.write(head + BEGIN + "\n" + report.strip() + "\n" + END + tail)


def main(argv):
    if len(argv) == 3 and argv[0] == "--publish":
        publish(argv[1], argv[2])
        return 0
    if len(argv) != 1 or argv[0].startswith("-"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    out = argv[0]
    res, series_cache, raw = analyse(out)
    plots = []
    if shutil.which("gnuplot"):
        plots = plot_jobs(out, raw, series_cache) + plot_daemon(out, res)
    else:
        print("report.py: gnuplot is not installed; no plots", file=sys.stderr)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(res, f, indent=2)
    write_report(out, res, plots)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
