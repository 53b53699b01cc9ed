// The NeverwinterDP dashboard: renders each snapshot /ui/events sends (server-sent events, at most one a second).
// Everything the node sends is put in the page as text (textContent), never as markup.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const fmt = (n) => (n === null || n === undefined) ? "–" : Number(n).toLocaleString("en-US", { maximumFractionDigits: 1 });
  const age = (ms, now) => {
    if (!ms) return "–";
    const s = Math.max(0, Math.round((now - ms) / 1000));
    return s < 90 ? s + " s ago" : s < 5400 ? Math.round(s / 60) + " min ago" : Math.round(s / 3600) + " h ago";
  };
  const bytes = (n) => n >= 1 << 30 ? (n / (1 << 30)).toFixed(1) + " GiB" : n >= 1 << 20 ? (n / (1 << 20)).toFixed(1) + " MiB" : n >= 1024 ? (n / 1024).toFixed(1) + " KiB" : n + " B";

  function cell(text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }
  function pill(text, bad) {
    const td = document.createElement("td");
    const span = document.createElement("span");
    span.className = "pill" + (bad ? " bad" : "");
    span.textContent = text;
    td.appendChild(span);
    return td;
  }
  function rows(tbody, items, build, tag) {
    const fresh = items.map((item) => {
      const tr = document.createElement(tag || "tr");
      build(tr, item);
      return tr;
    });
    tbody.replaceChildren(...fresh);
  }

  let chart = null;
  let chartTypes = "";
  const palette = ["#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777", "#4b5563", "#65a30d"];

  function drawChart(snap) {
    const el = $("chart");
    if (typeof uPlot === "undefined") return;
    // The busiest types (up to ten) keep the chart readable; the table lists all.
    const types = snap.types.slice().sort((a, b) => sum(b.per_minute) - sum(a.per_minute)).slice(0, 10);
    const data = [snap.minutes.map((m) => m / 1000)].concat(types.map((t) => t.per_minute));
    const key = types.map((t) => t.type).join("\u0000");
    const width = Math.max(200, el.clientWidth);
    if (!chart || key !== chartTypes) {
      if (chart) chart.destroy();
      chartTypes = key;
      chart = new uPlot({
        width: width, height: 220,
        series: [{}].concat(types.map((t, i) => ({ label: t.type, stroke: palette[i % palette.length], width: 1.5 }))),
        axes: [{}, { size: 60 }],
        scales: { y: { range: (u, min, max) => [0, Math.max(1, max)] } },
        legend: { live: false },
      }, data, el);
    } else {
      chart.setData(data);
      if (chart.width !== width) chart.setSize({ width: width, height: 220 });
    }
  }
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);

  function render(snap) {
    const now = snap.at_ms;
    $("updated").textContent = "updated " + new Date(now).toLocaleTimeString();
    $("self").textContent = snap.cluster.self;

    const ing = snap.ingress, st = ing.status;
    $("ingress-rate").textContent = fmt(ing.events_per_second);
    $("ingress-accepted").textContent = fmt(st.accepted_events);
    $("ingress-spilled").textContent = fmt(st.spilled_events);
    $("ingress-refused").textContent = fmt(st.refused_requests);
    $("ingress-state").textContent = (st.running ? "running" : "stopped") + " · " + bytes(st.bytes_in_flight) + " of " + bytes(st.max_bytes_in_flight) + " in flight · " + st.queued + " queued for Kafka";
    const reasons = Object.entries(ing.refusals_by_reason);
    rows($("refusals"), reasons.length ? reasons : [["none", 0]], (tr, [reason, n]) => { tr.dataset.reason = reason; tr.append(cell(reason), cell(fmt(n), "n")); });

    const bus = snap.bus;
    const busState = $("bus-state");
    busState.textContent = bus.up ? "up" : "down";
    busState.className = "big " + (bus.up ? "ok-text" : "bad-text");
    $("spill-events").textContent = fmt(bus.spilled_events);
    $("spill-age").textContent = bus.oldest_spilled_at_ms ? age(bus.oldest_spilled_at_ms, now) : "–";
    $("spill-quota").textContent = bus.quota_limit_bytes > 0 ? Math.round(100 * bus.quota_used_bytes / bus.quota_limit_bytes) + " %" : bytes(bus.quota_used_bytes);
    $("spill-in-doubt").textContent = fmt(bus.requests_in_doubt);

    rows($("sinks"), snap.sinks, (tr, s) => {
      tr.dataset.sink = s.sink;
      tr.dataset.state = s.state;
      tr.className = s.state;
      tr.title = s.detail || "";
      tr.append(cell(s.sink), cell(s.kind, "opt"), pill(s.state, s.state !== "ok"), cell(fmt(s.delivered_per_second), "n"), cell(fmt(s.delivered), "n opt"),
        cell(fmt(s.lag_records), "n opt"), cell(fmt(s.lag_seconds), "n"), cell(fmt(s.dead_letters), "n"));
    });

    // Shown only when the cluster runs mirrors (nwdp.mirrors).
    $("mirrors-card").hidden = !snap.mirrors || snap.mirrors.length === 0;
    rows($("mirrors"), snap.mirrors || [], (tr, m) => {
      tr.dataset.mirror = m.name;
      tr.dataset.state = m.state;
      tr.className = m.state;
      tr.title = m.last_error || "";
      tr.append(cell(m.name), cell(m.source_site + " → " + m.target_site, "opt"), pill(m.state, m.state !== "ok"), cell(m.node || "–", "opt"), cell(fmt(m.copied), "n opt"),
        cell(fmt(m.lag_records), "n"), cell(fmt(m.lag_seconds), "n"));
    });

    rows($("types"), snap.types, (tr, t) => {
      tr.dataset.type = t.type;
      tr.append(cell(t.type), cell(fmt(t.events_per_second), "n rate"), cell(fmt(t.events_here), "n count"), cell(fmt(sum(t.per_minute)), "n"));
    });
    drawChart(snap);

    // Absent when the feature is off on this node: a single row says so.
    const off = (what) => [{ off: what }];
    const offRow = (tr, text) => { const td = cell(text); td.colSpan = 9; tr.append(td); };
    rows($("coverage"), snap.coverage && snap.coverage.length ? snap.coverage : off(snap.coverage ? "no events in the last hour" : "coverage is off (nwdp.coverage.enabled)"), (tr, c) => {
      if (c.off) { offRow(tr, c.off); return; }
      tr.dataset.type = c.type;
      tr.append(cell(c.type), cell(fmt(c.events), "n events"), cell((100 * c.error_ratio).toFixed(1) + " %", "n"), cell(fmt(c.distinct_hosts), "n"),
        cell(fmt(c.distinct_sources), "n opt"), cell(fmt(c.keys), "n opt"), cell(fmt(c.unsketched), "n opt"));
    });
    rows($("watermarks"), snap.watermarks && snap.watermarks.length ? snap.watermarks : off(snap.watermarks ? "no hour completed yet" : "watermarks are off on this node"), (tr, w) => {
      if (w.off) { offRow(tr, w.off); return; }
      tr.dataset.state = w.state;
      tr.title = w.reason || "";
      tr.append(cell(w.sink), cell(w.topic), cell(w.hour + (w.version > 1 ? " v" + w.version : "")), pill(w.state, w.state !== "complete"), cell(fmt(w.events), "n"));
    });
    rows($("replays"), snap.replays.length ? snap.replays : off("no replay on this node"), (tr, r) => {
      if (r.off) { offRow(tr, r.off); return; }
      tr.dataset.state = r.state;
      tr.title = r.error || "";
      const pct = r.total > 0 ? Math.floor(100 * r.done / r.total) + " %" : fmt(r.done);
      tr.append(cell(r.id), cell(r.sink), pill(r.state, r.state === "failed"), cell(pct, "n"), cell(fmt(r.events_per_second), "n opt"),
        cell(r.eta_seconds === null || r.eta_seconds === undefined ? "–" : Math.round(r.eta_seconds) + " s", "n opt"));
    });

    rows($("members"), snap.cluster.members, (tr, m) => {
      tr.append(cell(m.address + (m.self ? " (this node)" : "") + (m.leader ? " ★" : "")), cell(m.roles.join(", ")), pill(m.reachable ? m.status : "unreachable", !m.reachable || m.status !== "Up"));
    });

    const online = snap.hosts.filter((h) => h.online).length;
    $("watchdog-summary").textContent = online + " host(s) online, " + (snap.hosts.length - online) + " offline; " + snap.sources.filter((s) => s.silent).length + " silent source(s)";
    rows($("hosts"), snap.hosts, (tr, h) => { tr.append(cell(h.host), pill(h.online ? "online" : "offline", !h.online), cell(age(h.last_heartbeat_ms, now))); });
    rows($("sources"), snap.sources, (tr, s) => { tr.append(cell(s.source_id), pill(s.silent ? "silent" : "sending", s.silent), cell(fmt(s.events), "n"), cell(age(s.last_seen_ms, now))); });

    $("problems-card").hidden = snap.problems.length === 0;
    rows($("problems"), snap.problems, (li, p) => { li.textContent = p; }, "li");
  }

  function connect() {
    const source = new EventSource("/ui/events");
    const state = $("connection");
    source.addEventListener("open", () => { state.textContent = "live"; state.className = "pill"; state.dataset.state = "live"; });
    source.addEventListener("error", () => { state.textContent = "reconnecting"; state.className = "pill bad"; state.dataset.state = "reconnecting"; });
    source.addEventListener("snapshot", (e) => render(JSON.parse(e.data)));
  }
  connect();
})();
