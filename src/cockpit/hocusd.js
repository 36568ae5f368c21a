/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The hocusd Cockpit page: the figures `hocusctl status` prints, kept live
 * from the bus, with small plots of the last minutes and Start/Stop.
 *
 * Everything comes from dev.hocus.Hocusd1 on the system bus through
 * Cockpit's D-Bus client: the proxies below are filled from the
 * ObjectManager and kept current by PropertiesChanged, so the page never
 * polls. Who may start or stop is the bus policy's decision
 * (systemd/dev.hocus.Hocusd1.conf): a refusal comes back as an error of the
 * call and is shown as it came. docs/dbus-api.md defines every property.
 *
 * For tests and scripts, each figure carries its raw value: the host's in
 * `data-value` of #hd-host-<Property>, a workspace's in `data-value` of
 * td[data-field=<Property>] of tr[data-workspace=<name>].
 */
"use strict";

const BUS_NAME = "dev.hocus.Hocusd1";
const ROOT_PATH = "/dev/hocus/Hocusd1";
const MANAGER = "dev.hocus.Hocusd1.Manager";
const WORKSPACE = "dev.hocus.Hocusd1.Workspace";
const HISTORY_SECONDS = 300;
/* Start and Stop answer when libvirt is done, however long that takes
 * (docs/dbus-api.md, "call without a reply timeout"). */
const NO_REPLY_TIMEOUT = 2147483647;
const SVG = "http://www.w3.org/2000/svg";

/* superuser "try": an administrator who turned on administrative access
 * acts as root; anybody else as themselves, and the bus policy decides. */
const client = cockpit.dbus(BUS_NAME, { bus: "system", superuser: "try" });
const manager = client.proxy(MANAGER, ROOT_PATH);
const workspaces = client.proxies(WORKSPACE, ROOT_PATH);

/* name -> "start" | "stop" while a call is in flight */
const pending = new Map();
/* host: [[seconds, resident bytes]]; per workspace: [[seconds, rss, used]] */
const history = { host: [], workspaces: new Map() };
let lastSampleUsec = null;

/* ---- formatting, as hocusctl status prints ---- */

function formatBytes(n) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    let v = n;
    while (v >= 1024 && i < units.length - 1) {
        v /= 1024;
        i++;
    }
    return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}
const formatPercent = (d) => `${d.toFixed(2)}%`;
const PRESSURE_LEVELS = { 0: "normal", 50: "low", 100: "medium", 255: "critical" };

/* A property's value, or null when hocusd lists it in Absent (no value now,
 * never a made-up zero) or does not have it at all. */
function value(proxy, name) {
    if (!proxy || !proxy.valid)
        return null;
    const absent = proxy.Absent || [];
    if (absent.indexOf(name) >= 0 || proxy[name] === undefined)
        return null;
    return proxy[name];
}

function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
        if (v === null || v === undefined || v === false)
            continue;
        if (k === "text")
            e.textContent = v;
        else
            e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children)
        e.append(c);
    return e;
}

/* ---- alerts ---- */

function showAlert(kind, title, detail) {
    const box = document.getElementById("hd-alerts");
    const close = el("button", { class: "pf-c-button pf-m-plain", type: "button", "aria-label": "Close" }, "\u00d7");
    const alert = el("div", { class: `pf-c-alert pf-m-inline pf-m-${kind}`, role: "alert", "data-alert": kind },
                     el("p", { class: "pf-c-alert__title", text: title }),
                     el("div", { class: "pf-c-alert__action" }, close));
    if (detail)
        alert.append(el("div", { class: "pf-c-alert__description", text: detail }));
    close.addEventListener("click", () => alert.remove());
    box.prepend(alert);
    while (box.children.length > 5)
        box.lastChild.remove();
}

/* What to tell a person whose call failed. */
function describeError(verb, name, ex) {
    if (ex && ex.name === "org.freedesktop.DBus.Error.AccessDenied")
        return [`Not permitted to ${verb} ${name}`,
            "hocusd's bus policy lets root and members of group hocus start and stop workspaces. " +
            `(${ex.message})`];
    const what = (ex && (ex.message || ex.problem)) || String(ex);
    return [`Could not ${verb} ${name}`, ex && ex.name ? `${what} (${ex.name})` : what];
}

function act(verb, proxy) {
    const name = proxy.Name;
    pending.set(name, verb);
    render();
    const call = verb === "start"
        ? proxy.call("Start", [], { timeout: NO_REPLY_TIMEOUT })
        : proxy.call("Stop", [false], { timeout: NO_REPLY_TIMEOUT });
    call.then(() => {
        pending.delete(name);
        render();
    }, (ex) => {
        pending.delete(name);
        const [title, detail] = describeError(verb, name, ex);
        showAlert("danger", title, detail);
        render();
    });
}

/* ---- the host summary ---- */

function hostItems() {
    const m = manager;
    const v = (n) => value(m, n);
    const items = [];
    const add = (key, term, text, raw, title) =>
        items.push({ key, term, text: text === null ? "\u2013" : text, raw, title });

    add("Virtualization", "Accelerator", v("Virtualization") || "choosing", v("Virtualization"),
        v("VirtualizationReason"));
    const total = v("MemTotalBytes");
    const avail = v("MemAvailableBytes");
    add("MemAvailableBytes", "Memory",
        total === null ? null : `${formatBytes(total)} total, ${avail === null ? "\u2013" : formatBytes(avail)} available`,
        avail);
    const some10 = v("PressureSomeAvg10");
    add("PressureSomeAvg10", "Pressure",
        some10 === null
            ? null
            : `some avg10 ${formatPercent(some10)}, avg60 ${formatPercent(v("PressureSomeAvg60") || 0)}; ` +
              `full avg10 ${formatPercent(v("PressureFullAvg10") || 0)} ` +
              `(${PRESSURE_LEVELS[v("PressureLevel") || 0] || v("PressureLevel")})`,
        some10);
    add("WorkspacesRunning", "Running", v("WorkspacesRunning") === null ? null : String(v("WorkspacesRunning")),
        v("WorkspacesRunning"));
    const committed = v("CommittedBytes");
    const ratio = v("OvercommitRatio");
    add("CommittedBytes", "Committed",
        committed === null ? null : `${formatBytes(committed)} (overcommit ${ratio === null ? "\u2013" : ratio.toFixed(2)})`,
        committed);
    const resident = v("ResidentBytes");
    add("ResidentBytes", "Resident", resident === null ? null : formatBytes(resident), resident);
    const eff = v("Efficiency");
    add("Efficiency", "Efficiency", eff === null ? null : `${eff.toFixed(2)} (guest used / host RSS; 1.00 is container-like)`, eff);
    const head = v("HeadroomWorkspaces");
    const median = v("MedianIdleRssBytes");
    add("HeadroomWorkspaces", "Headroom",
        head === null ? null : `${head} more workspaces like the median idle one (${median === null ? "\u2013" : formatBytes(median)})`,
        head);
    const ksm = v("KsmRunning");
    add("KsmSavedBytes", "KSM",
        ksm === null ? null : `${ksm ? "on" : "off"}, ${formatBytes(v("KsmSavedBytes") || 0)} saved`,
        v("KsmSavedBytes"));
    return items;
}

function renderHost() {
    const dl = document.getElementById("hd-host");
    const items = hostItems();
    dl.replaceChildren(...items.map((it) =>
        el("div", { class: "pf-c-description-list__group" },
           el("dt", { class: "pf-c-description-list__term" },
              el("span", { class: "pf-c-description-list__text", text: it.term })),
           el("dd", { class: "pf-c-description-list__description", id: `hd-host-${it.key}`,
               "data-value": it.raw === null || it.raw === undefined ? null : String(it.raw),
               title: it.title || null },
              el("div", { class: "pf-c-description-list__text", text: it.text })))));

    const d = document.getElementById("hd-daemon");
    if (!manager.valid) {
        d.textContent = "hocusd is not running on this host (nobody owns dev.hocus.Hocusd1 on the system bus).";
        return;
    }
    d.textContent = `hocusd ${manager.Version} \u00b7 ${manager.LibvirtUri} ` +
        `(${manager.Connected ? "connected" : "reconnecting"})`;
}

/* ---- the workspace table ---- */

const COLUMNS = [
    { field: "RssBytes", label: "RSS", fmt: formatBytes },
    { field: "GuestUsedBytes", label: "Used", fmt: formatBytes },
    { field: "GuestCacheBytes", label: "Cache", fmt: formatBytes },
    { field: "FootprintRatio", label: "Footprint", fmt: (d) => d.toFixed(2) },
    { field: "CpuUsage", label: "CPU", fmt: (d) => `${(d * 100).toFixed(0)}%` },
    { field: "PressureSomeAvg10", label: "PSI some", fmt: formatPercent },
];

const STARTABLE = ["shutoff", "crashed"];
const STOPPABLE = ["running", "paused", "pmsuspended", "blocked"];

function workspaceRow(p) {
    const name = p.Name;
    const running = p.State === "running";
    const cell = (field, label, raw, text, extra) =>
        el("td", Object.assign({ role: "gridcell", "data-label": label, "data-field": field,
                                 "data-value": raw === null ? null : String(raw) }, extra || {}),
           text === null ? "\u2013" : text);

    const cells = [
        el("th", { role: "gridcell", "data-label": "Name", "data-field": "Name", "data-value": name, scope: "row" },
           el("span", { class: "hd-name", text: name })),
        cell("State", "State", p.State, el("span", { class: `hd-state hd-state-${p.State}`, text: p.State }),
             p.LastError ? { title: p.LastError } : null),
    ];
    for (const c of COLUMNS) {
        const raw = value(p, c.field);
        cells.push(cell(c.field, c.label, raw, raw === null ? null : c.fmt(raw), { class: "hd-num" }));
    }
    const idle = value(p, "Idle");
    cells.push(cell("Idle", "Idle", running ? idle : null, running ? (idle ? "idle" : "busy") : null));
    cells.push(cell("AgentConnected", "Agent", p.AgentConnected, p.AgentConnected ? "connected" : "no"));
    const lat = value(p, "ReclaimLatencySec");
    cells.push(cell("ReclaimLatencySec", "Reclaim", lat, lat === null ? null : `${lat.toFixed(1)} s`,
                    { class: "hd-num", title: lat === null ? null : `${formatBytes(value(p, "ReclaimBytes") || 0)} given back` }));

    const busy = pending.get(name);
    const actions = el("td", { role: "gridcell", class: "pf-c-table__action hd-actions" });
    if (busy) {
        actions.append(el("span", { class: "hd-busy", "data-busy": busy,
            text: busy === "start" ? "Starting\u2026" : "Stopping\u2026" }));
    } else if (STARTABLE.indexOf(p.State) >= 0) {
        const b = el("button", { class: "pf-c-button pf-m-secondary pf-m-small", type: "button",
            "data-action": "start", text: "Start" });
        b.addEventListener("click", () => act("start", p));
        actions.append(b);
    } else if (STOPPABLE.indexOf(p.State) >= 0) {
        const b = el("button", { class: "pf-c-button pf-m-secondary pf-m-danger pf-m-small", type: "button",
            "data-action": "stop", text: "Stop" });
        b.addEventListener("click", () => act("stop", p));
        actions.append(b);
    }
    cells.push(actions);
    return el("tr", { role: "row", "data-workspace": name, "data-state": p.State }, ...cells);
}

function sortedWorkspaces() {
    return Object.values(workspaces).filter((p) => p.valid && p.Name)
            .sort((a, b) => a.Name.localeCompare(b.Name));
}

/* Rows are updated in place, cell by cell: a cell (and a button in it) is
 * replaced only when what it shows changed, so a figure moving every tick
 * does not take the button a person is about to press from under them. */
function renderTable() {
    const list = sortedWorkspaces();
    const body = document.getElementById("hd-rows");
    const old = new Map([...body.children].map((tr) => [tr.getAttribute("data-workspace"), tr]));
    const rows = list.map((p) => {
        const fresh = workspaceRow(p);
        const tr = old.get(p.Name);
        if (!tr || tr.children.length !== fresh.children.length)
            return fresh;
        [...fresh.children].forEach((td, i) => {
            if (!td.isEqualNode(tr.children[i]))
                tr.replaceChild(td, tr.children[i]);
        });
        tr.setAttribute("data-state", p.State);
        return tr;
    });
    rows.forEach((tr, i) => {
        if (body.children[i] !== tr)
            body.insertBefore(tr, body.children[i] || null);
    });
    while (body.children.length > rows.length)
        body.lastChild.remove();
    document.getElementById("hd-empty").hidden = list.length > 0 || !manager.valid;
}

/* ---- history and plots, kept in the page ---- */

function record() {
    const sample = value(manager, "SampleTimeUsec");
    if (sample === null || sample === lastSampleUsec)
        return;
    lastSampleUsec = sample;
    const now = Date.now() / 1000;
    const cut = now - HISTORY_SECONDS;
    const resident = value(manager, "ResidentBytes");
    if (resident !== null)
        history.host.push([now, resident]);
    while (history.host.length && history.host[0][0] < cut)
        history.host.shift();
    const seen = new Set();
    for (const p of sortedWorkspaces()) {
        seen.add(p.Name);
        const rss = value(p, "RssBytes");
        if (!history.workspaces.has(p.Name))
            history.workspaces.set(p.Name, []);
        const h = history.workspaces.get(p.Name);
        if (rss !== null)
            h.push([now, rss, value(p, "GuestUsedBytes")]);
        while (h.length && h[0][0] < cut)
            h.shift();
    }
    for (const name of history.workspaces.keys()) {
        if (!seen.has(name))
            history.workspaces.delete(name);
    }
}

/* A small SVG plot: one polyline per series; time on x, from the page's
 * first sample (at most HISTORY_SECONDS ago) to now; bytes on y from 0. */
function plot(title, series, now, note) {
    const W = 300;
    const H = 80;
    const vmax = Math.max(1, ...series.flatMap((s) => s.points.map((pt) => pt[1])));
    const oldest = Math.min(now, ...series.flatMap((s) => s.points.map((pt) => pt[0])));
    const span = Math.max(10, now - Math.max(oldest, now - HISTORY_SECONDS));
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("class", "hd-plot-svg");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", `${title}, up to ${formatBytes(vmax)}`);
    for (const s of series) {
        if (s.points.length === 0)
            continue;
        const line = document.createElementNS(SVG, "polyline");
        line.setAttribute("class", s.cls);
        line.setAttribute("points", s.points.map(([t, v]) =>
            `${(W * (1 - (now - t) / span)).toFixed(1)},${(H - 2 - (H - 4) * v / vmax).toFixed(1)}`)
                .join(" "));
        svg.append(line);
    }
    return el("figure", { class: "hd-plot", "data-plot": title },
              el("figcaption", {}, el("span", { class: "hd-plot-title", text: title }),
                 el("span", { class: "hd-plot-note", text: note })),
              svg);
}

function renderPlots() {
    const now = Date.now() / 1000;
    const figures = [];
    const last = history.host[history.host.length - 1];
    figures.push(plot("All workspaces (host resident)", [{ cls: "hd-line-rss", points: history.host }], now,
                      last ? formatBytes(last[1]) : "\u2013"));
    for (const [name, h] of history.workspaces) {
        if (h.length === 0)
            continue;
        const [, rss, used] = h[h.length - 1];
        figures.push(plot(name, [
            { cls: "hd-line-rss", points: h.map(([t, r]) => [t, r]) },
            { cls: "hd-line-used", points: h.filter((x) => x[2] !== null).map(([t, , u]) => [t, u]) },
        ], now, `${formatBytes(rss)} RSS, ${used === null ? "\u2013" : formatBytes(used)} used`));
    }
    document.getElementById("hd-plots").replaceChildren(...figures);
}

/* ---- wiring ---- */

let scheduled = false;
function render() {
    if (scheduled)
        return;
    scheduled = true;
    window.requestAnimationFrame(() => {
        scheduled = false;
        record();
        renderHost();
        renderTable();
        renderPlots();
    });
}

manager.addEventListener("changed", render);
workspaces.addEventListener("added", render);
workspaces.addEventListener("changed", render);
workspaces.addEventListener("removed", render);
client.addEventListener("close", (ev, options) => {
    showAlert("danger", "Lost the connection to the system bus",
              (options && (options.message || options.problem)) || "");
});

document.getElementById("hd-window").textContent = String(HISTORY_SECONDS / 60);
Promise.allSettled([manager.wait(), workspaces.wait()]).then(() => {
    render();
    window.requestAnimationFrame(() => document.getElementById("hocusd").setAttribute("data-ready", "true"));
});
