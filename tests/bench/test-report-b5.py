#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""B5's report (tests/bench/report-b5.py): the series reader and the table."""
import importlib.util
import os
import tempfile
import unittest

_spec = importlib.util.spec_from_file_location(
    "report_b5", os.path.join(os.path.dirname(os.path.abspath(__file__)), "report-b5.py"))
report_b5 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(report_b5)


class Series(unittest.TestCase):
    def test_rows_and_dead_guests(self):
        with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as f:
            f.write("100.5 2097152 12.50 40.00 ws-1:1048576:1048576 ws-2:1048576:524288\n")
            f.write("101.5 1048576 0.00 1.00 ws-1:1048576:1048576 ws-2:0:0\n")
            f.write("\n")
            path = f.name
        try:
            rows = report_b5.read_series(path)
        finally:
            os.unlink(path)
        self.assertEqual(len(rows), 2)
        t, total, full, some, guests = rows[0]
        self.assertEqual((t, total, full, some), (0.0, 2048.0, 12.5, 40.0))
        self.assertEqual(guests["ws-2"], (1024.0, 512.0))
        self.assertEqual(rows[1][0], 1.0)
        self.assertEqual(rows[1][4]["ws-2"], (0.0, 0.0))


class Table(unittest.TestCase):
    def test_rows_in_mode_order_with_capacity(self):
        run = {"guests": 4, "qemu_killed": 1, "guest_oom_kills": 2, "psi_full_gt10_s": 3,
               "work_rounds": 9, "peak_rss_mib": 2000, "mean_rss_mib": 1500}
        runs = {"plain": dict(run), "active": dict(run, qemu_killed=0)}
        capacity = {"active": {"held": 6, "first_death": "none", "max_tried": 6},
                    "plain": {"held": 3, "first_death": "ws-4", "max_tried": 6}}
        text = report_b5.table(runs, capacity)
        lines = text.strip().split("\n")
        self.assertEqual(len(lines), 4)  # header, rule, active, plain (observe absent)
        self.assertIn("policy active | 0 of 4 | 2 | 3 | 9 | 2000 | 1500 | 6 (no kill up to 6) |",
                      lines[2])
        self.assertIn("plain libvirt domains | 1 of 4 |", lines[3])
        self.assertTrue(lines[3].endswith("| 3 |"))


if __name__ == "__main__":
    unittest.main()
