#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Table tests of the benchmark report's figures (tests/bench/report.py)."""
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402

MIB = 1024


def series(points):
    """(time, MiB) pairs -> (time, KiB) samples."""
    return [(t, int(m * MIB)) for t, m in points]


class Summary(unittest.TestCase):
    def test_odd_even_and_not_reached(self):
        cases = [
            ([3.0, 1.0, 2.0], {"median": 2.0, "min": 1.0, "max": 3.0, "n": 3}),
            ([4.0, 1.0, 2.0, 3.0], {"median": 2.5, "min": 1.0, "max": 4.0, "n": 4}),
            ([None, 1.0, 2.0], {"median": 2.0, "min": 1.0, "max": None, "n": 3}),
            ([None, None, 2.0], {"median": None, "min": 2.0, "max": None, "n": 3}),
            ([None, 1.0], {"median": None, "min": 1.0, "max": None, "n": 2}),
            ([5.0], {"median": 5.0, "min": 5.0, "max": 5.0, "n": 1}),
        ]
        for values, want in cases:
            with self.subTest(values=values):
                self.assertEqual(report.summary(values), want)
        self.assertIsNone(report.summary([]))


class ReclaimFigures(unittest.TestCase):
    # Base 200 MiB before t=10, up to 800 during the job (ends at t=20), then
    # down by 100 MiB a second until 200.
    SAMPLES = series([(8, 200), (9, 200), (10, 300), (15, 800), (20, 800), (21, 700), (22, 600),
                      (23, 500), (24, 400), (25, 300), (26, 240), (27, 210), (28, 200), (50, 200)])

    def test_freed_memory_returning(self):
        f = report.reclaim_figures(self.SAMPLES, 10, 20, 600)
        self.assertEqual(f["base_mib"], 200)
        self.assertEqual(f["peak_mib"], 800)
        self.assertEqual(f["s_to_50"], 3)      # 800 - 500 = 300 = 50 % of 600
        self.assertEqual(f["s_to_90"], 6)      # 800 - 240 = 560 >= 540
        self.assertEqual(f["s_to_95"], 7)      # 590 >= 570
        self.assertEqual(f["s_to_within_10pct_of_base"], 7)   # 210 <= 220
        self.assertAlmostEqual(f["returned_pct_30s"], 100.0)
        self.assertEqual(f["residual_mib_30s"], 0)
        self.assertEqual(f["above_base_mib_30s"], 0)

    def test_nothing_returns(self):
        flat = series([(9, 200), (15, 800), (20, 800), (30, 800), (50, 800)])
        f = report.reclaim_figures(flat, 10, 20, 600)
        self.assertIsNone(f["s_to_50"])
        self.assertIsNone(f["s_to_within_10pct_of_base"])
        self.assertEqual(f["residual_mib_30s"], 600)
        self.assertEqual(f["returned_pct_30s"], 0)
        self.assertEqual(f["above_base_mib_30s"], 600)

    def test_growth_is_the_measure_without_a_freed_size(self):
        # Page cache: nothing is "freed"; the growth (peak - base) is.
        f = report.reclaim_figures(self.SAMPLES, 10, 20, 0)
        self.assertEqual(f["growth_mib"], 600)
        self.assertEqual(f["s_to_90"], 6)

    def test_only_the_window_counts(self):
        late = series([(9, 200), (20, 800), (25, 800), (49, 800), (51, 200)])
        f = report.reclaim_figures(late, 10, 20, 600, window=30)
        self.assertIsNone(f["s_to_95"])
        self.assertEqual(f["rss_30s_mib"], 800)

    def test_a_series_that_misses_the_job_is_an_error(self):
        with self.assertRaises(ValueError):
            report.reclaim_figures(series([(1, 200), (2, 200)]), 10, 20, 600)


class Density(unittest.TestCase):
    def test_formula(self):
        # floor((64 - 2) GiB / 248 MiB) = floor(63488 / 248) = 256
        self.assertEqual(report.density(248, 64), 256)
        self.assertEqual(report.density(1000, 256), 260)
        self.assertIsNone(report.density(0, 64))


class WholeRun(unittest.TestCase):
    """A run directory in miniature: the report and results come out of it."""

    def test_fit_a_line(self):
        f = report.fit([10, 100, 1000], [3, 12, 102])
        self.assertAlmostEqual(f["slope"], 0.1, places=3)
        self.assertAlmostEqual(f["intercept"], 2.0, delta=0.1)
        self.assertGreater(f["r2"], 0.999)
        # A curve is not a line: R squared says so.
        f = report.fit([10, 100, 1000, 5000], [1, 10, 1000, 25000])
        self.assertLess(f["r2"], 0.99)
        self.assertIsNone(report.fit([10], [1]))
        self.assertIsNone(report.fit([5, 5], [1, 2]))

    def test_growth_and_targets_from_b4(self):
        res = {"daemon": {}}
        for n, cpu, rss in [(10, 0.2, 20.0), (100, 1.6, 21.0), (1000, 15.0, 30.0)]:
            one = lambda v: {"median": v, "min": v, "max": v, "n": 1}  # noqa: E731
            res["daemon"][str(n)] = {"cpu_ms_per_tick": one(cpu), "rss_mib": one(rss),
                                     "cpu_pct_of_core": one(cpu / 10),
                                     "managed_objects_ms": one(n / 50), "get_metrics_ms": one(n / 40),
                                     "virsh_domstats_ms": one(n / 100)}
        text = report.growth_table(res)
        self.assertIn("| CPU ms per tick | 14.92 µs |", text)
        self.assertIn("| RSS MiB | 10.30 KiB |", text)
        res["reclaim"], res["idle"] = {}, {}
        targets = report.targets_table(res)
        self.assertIn("| issue 12: tick CPU <= 2x the virsh domstats floor (1000) | 1.50x | met |", targets)
        self.assertIn("| issue 12: RSS <= 32 MiB (1000) | 30.0 | met |", targets)
        self.assertIn("| issue 12: GetMetrics <= 25 ms (1000) | 25.0 | met |", targets)

    def test_gdbus_floor_is_serialise_plus_parse(self):
        calls = {"get_metrics_serialize_ms": [10.0, 12.0, 11.0], "get_metrics_parse_ms": [20.0, 30.0, 25.0]}
        floor = report.gdbus_floor(calls, "get_metrics")
        self.assertEqual((floor["median"], floor["min"], floor["max"]), (36.0, 30.0, 42.0))
        old = {"get_metrics_serialize_ms": [10.0, 12.0]}   # a run from before parse was timed
        self.assertEqual(report.gdbus_floor(old, "get_metrics")["max"], 12.0)
        self.assertEqual(report.gdbus_floor({"get_metrics_serialize_ms": [10.0, 1.0],
                                             "get_metrics_parse_ms": [-1.0, 2.0]}, "get_metrics")["n"], 1)
        self.assertIsNone(report.gdbus_floor({}, "get_metrics"))
        self.assertIsNone(report.gdbus_floor(None, "get_metrics"))

    def test_report_from_a_small_run(self):
        with tempfile.TemporaryDirectory() as out:
            os.mkdir(os.path.join(out, "series"))
            with open(os.path.join(out, "machine.json"), "w") as f:
                json.dump({"cpu": "x", "cores": 2, "mem_kib": 1048576, "accel": "TCG",
                           "host_kernel": "k", "qemu": "q", "libvirt": "l", "commit": "c",
                           "date": "d", "reps": 1}, f)
            with open(os.path.join(out, "series", "anon-1.tsv"), "w") as f:
                for t, m in [(9, 200), (15, 800), (20, 800), (21, 200), (50, 200)]:
                    f.write("%d A %d\n%d B %d\n" % (t, m * MIB, t, 800 * MIB if t >= 15 else m * MIB))
                f.write("51 A\n")   # cut short by the sampler's end: ignored
            with open(os.path.join(out, "raw.jsonl"), "w") as f:
                for c in "AB":
                    f.write(json.dumps({"bench": "anon", "config": c, "rep": 1, "t_start": 10,
                                        "t_end": 20, "freed_mib": 600,
                                        "series": "series/anon-1.tsv"}) + "\n")
            res, _, _ = report.analyse(out)
            report.write_report(out, res, [])
            self.assertEqual(res["reclaim"]["anon"]["A"]["s_to_95"]["median"], 1)
            self.assertIsNone(res["reclaim"]["anon"]["B"]["s_to_95"]["median"])
            with open(os.path.join(out, "report.md")) as f:
                text = f.read()
            self.assertIn("| B1 anon: s to 95 % back | 1.0 | > 30 s | - | - |", text)


if __name__ == "__main__":
    unittest.main()
