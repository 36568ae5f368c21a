#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Drives the hocusd Cockpit page in headless Chromium as a person would.

Run by test-cockpit.sh with Debian's python3-selenium and chromium-driver:

  cockpit-page.py root URL RUNNING SHUTOFF NEWNAME SHOTS_DIR
  cockpit-page.py viewer URL SHUTOFF SHOTS_DIR

HD_HOCUSCTL and HD_BUS name the hocusctl to compare with and its bus. Prints
MEASURE lines; exits 1 with "FAIL: ..." on the first check that fails.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

HOCUSCTL = os.environ["HD_HOCUSCTL"]
BUS = os.environ["HD_BUS"]


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def note(msg):
    print(f"--- {msg}", flush=True)


def hocusctl(*args):
    out = subprocess.run([HOCUSCTL, "--bus-address", BUS, "--json", *args],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        fail(f"hocusctl {' '.join(args)} exited {out.returncode}: {out.stdout}{out.stderr}")
    return json.loads(out.stdout)


def until(what, secs, fn, step=0.25):
    """fn() until it returns something true, for at most secs; that value."""
    end = time.monotonic() + secs
    while True:
        try:
            v = fn()
        except WebDriverException:
            v = None
        if v:
            return v
        if time.monotonic() > end:
            fail(f"{what} (waited {secs} s)")
        time.sleep(step)


def browser(size):
    opts = Options()
    # As root Chromium needs --no-sandbox; the network flags keep it from
    # calling out of this closed machine (../shared notes on Chromium).
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
              "--no-first-run", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
              f"--window-size={size}", f"--user-data-dir={tempfile.mkdtemp(prefix='hd-chromium-')}"):
        opts.add_argument(a)
    opts.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def open_page(drv, url):
    drv.get(url)
    until("the page never said it was ready (data-ready)", 30,
          lambda: drv.find_element(By.ID, "hocusd").get_attribute("data-ready") == "true")


# The page redraws a figure's cell when the figure changes, so values are
# read in one script call rather than through element references.
def cell(drv, ws, field):
    """The raw value of a workspace's figure, or None (absent / no row)."""
    return drv.execute_script(
        "const e = document.querySelector(`tr[data-workspace=\"${arguments[0]}\"] "
        "[data-field=\"${arguments[1]}\"]`); return e ? e.getAttribute('data-value') : null;", ws, field)


def host(drv, prop):
    return drv.execute_script(
        "const e = document.getElementById('hd-host-' + arguments[0]);"
        "return e ? e.getAttribute('data-value') : null;", prop)


def button(drv, ws, action):
    found = drv.find_elements(By.CSS_SELECTOR, f'tr[data-workspace="{ws}"] button[data-action="{action}"]')
    return found[0] if found else None


def matches_hocusctl(drv, running):
    """The page's figures are values hocusd published: each one read off the
    page must equal one that hocusctl read within the same few seconds (the
    RSS moves every tick, so equality at one instant proves nothing)."""
    seen = {"host": set(), "RssBytes": set(), "GuestUsedBytes": set(), "State": set()}
    page = {}
    for _ in range(40):
        status = hocusctl("status")
        ws = status["workspaces"][running]
        seen["host"].add(str(status["host"]["ResidentBytes"]))
        for k in ("RssBytes", "GuestUsedBytes", "State"):
            if k not in ws.get("Absent", []):
                seen[k].add(str(ws[k]))
        page = {"host": host(drv, "ResidentBytes"),
                "RssBytes": cell(drv, running, "RssBytes"),
                "GuestUsedBytes": cell(drv, running, "GuestUsedBytes"),
                "State": cell(drv, running, "State")}
        if all(page[k] is not None and page[k] in seen[k] for k in page):
            return page, {k: len(v) for k, v in seen.items()}
        time.sleep(0.3)
    fail(f"the page shows {page}, hocusctl read {seen}")


def root(url, running, shutoff, newname, shots):
    drv = browser("1366,1500")
    try:
        open_page(drv, url)
        note("the page against hocusctl --json status")
        until(f"no row for {running} and {shutoff}", 20,
              lambda: cell(drv, running, "State") and cell(drv, shutoff, "State"))
        page, counts = matches_hocusctl(drv, running)
        print(f"MEASURE page_rss={page['RssBytes']} page_guest_used={page['GuestUsedBytes']} "
              f"page_host_resident={page['host']} hocusctl_reads={counts['RssBytes']}")
        if cell(drv, shutoff, "State") != "shutoff":
            fail(f"{shutoff} shows {cell(drv, shutoff, 'State')}")
        if cell(drv, shutoff, "RssBytes") is not None:
            fail(f"a shut-off workspace shows an RSS: {cell(drv, shutoff, 'RssBytes')}")

        note("live: figures move and a new workspace appears without a reload")
        first = cell(drv, running, "RssBytes")
        stop = button(drv, running, "stop")
        t0 = time.monotonic()
        until(f"the RSS of {running} stayed {first} for 30 s", 30,
              lambda: cell(drv, running, "RssBytes") != first)
        print(f"MEASURE page_rss_changed_after_s={time.monotonic() - t0:.1f}")
        # The figure's cell was redrawn; the row's Stop button was not (a
        # button swapped every tick is one a person can miss).
        try:
            stop.is_enabled()
        except WebDriverException:
            fail(f"the Stop button of {running} was replaced when only its RSS changed")
        subprocess.run([HOCUSCTL, "--bus-address", BUS, "create", newname], check=True,
                       stdout=subprocess.DEVNULL)
        until(f"{newname}, created with hocusctl, did not appear", 10,
              lambda: cell(drv, newname, "State") == "shutoff")
        plots = drv.find_elements(By.CSS_SELECTOR, f'figure[data-plot="{running}"] polyline')
        if not plots:
            fail(f"no plot of {running}")

        note(f"Start {shutoff} from the page, as root")
        t0 = time.monotonic()
        until(f"no Start button for {shutoff}", 5, lambda: button(drv, shutoff, "start")).click()
        until(f"{shutoff} did not reach running in hocusctl", 60,
              lambda: hocusctl("show", shutoff)["state"] == "running")
        until(f"the page did not show {shutoff} running", 5,
              lambda: cell(drv, shutoff, "State") == "running")
        print(f"MEASURE page_start_to_running_s={time.monotonic() - t0:.1f}")
        note(f"Stop {shutoff} from the page")
        until(f"no Stop button for {shutoff}", 10, lambda: button(drv, shutoff, "stop")).click()
        until(f"{shutoff} did not shut off in hocusctl", 90,
              lambda: hocusctl("show", shutoff)["state"] == "shutoff")
        until(f"the page did not show {shutoff} shut off", 5,
              lambda: cell(drv, shutoff, "State") == "shutoff")
        drv.save_screenshot(os.path.join(shots, "cockpit-hocusd.png"))
        alerts = drv.find_elements(By.CSS_SELECTOR, "[data-alert]")
        if alerts:
            fail(f"root got an alert: {alerts[0].text}")
    finally:
        drv.quit()

    note("the same page on a phone screen (390 CSS px, as a phone's browser)")
    drv = browser("1366,900")
    try:
        # Chromium's window is at least 500 px wide; the device emulation of
        # its DevTools protocol gives a phone's viewport instead.
        drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 390, "height": 2400, "deviceScaleFactor": 1, "mobile": True})
        open_page(drv, url)
        until(f"no row for {running}", 10, lambda: cell(drv, running, "State"))
        width = drv.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
        print(f"MEASURE phone_scroll_width={width[0]} phone_viewport_width={width[1]}")
        if width[1] != 390:
            fail(f"the emulated phone viewport is {width[1]} px wide, not 390")
        if width[0] > width[1]:
            fail(f"on a 390 px screen the page is {width[0]} px wide (scrolls sideways)")
        drv.save_screenshot(os.path.join(shots, "cockpit-hocusd-phone.png"))
    finally:
        drv.quit()


def viewer(url, shutoff, shots):
    drv = browser("1366,900")
    try:
        open_page(drv, url)
        note(f"Start {shutoff} as a user the bus policy refuses")
        until(f"no Start button for {shutoff}", 20, lambda: button(drv, shutoff, "start")).click()
        alert = until("no alert after a refused Start", 20,
                      lambda: drv.find_elements(By.CSS_SELECTOR, '[data-alert="danger"]'))[0]
        text = alert.text
        print("MEASURE refusal=" + json.dumps(text.replace("\n", " ")))
        if f"Not permitted to start {shutoff}" not in text or "AccessDenied" not in text and \
                "Rejected" not in text:
            fail(f"the refusal says: {text}")
        drv.save_screenshot(os.path.join(shots, "cockpit-hocusd-refused.png"))
        time.sleep(2)
        state = hocusctl("show", shutoff)["state"]
        if state != "shutoff":
            fail(f"a refused Start left {shutoff} {state}")
        if cell(drv, shutoff, "State") != "shutoff":
            fail(f"after a refusal the page shows {cell(drv, shutoff, 'State')}")
    finally:
        drv.quit()


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "root":
        root(*sys.argv[2:])
    elif len(sys.argv) == 5 and sys.argv[1] == "viewer":
        viewer(*sys.argv[2:])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    print("PASS")
