// deno-fmt-ignore-file
// deno-lint-ignore-file
// @ts-nocheck
// Built from src/replay/report_page/ by `deno task build:report` (deno bundle): do not edit.
// src/dashboard/page/format.ts
var NONE = "\u2013";
function formatPercent(share) {
  if (share === null || share === void 0 || !Number.isFinite(share)) return NONE;
  return `${Math.round(share * 100)}%`;
}
function formatDuration(ms) {
  if (!Number.isFinite(ms)) return NONE;
  const sign = ms < 0 ? "-" : "";
  const s = Math.round(Math.abs(ms) / 1e3);
  if (s < 60) return `${sign}${s} s`;
  const min = Math.round(s / 60);
  if (min < 60) return `${sign}${min} min`;
  const h = Math.floor(min / 60), m = min % 60;
  if (h < 24) return `${sign}${h} h${m ? ` ${m} min` : ""}`;
  const d = Math.floor(h / 24), hh = h % 24;
  return `${sign}${d} d${hh ? ` ${hh} h` : ""}`;
}
function formatTime(ms, fmt = {}) {
  if (ms === null || ms === void 0 || !Number.isFinite(ms)) return NONE;
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: fmt.timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23"
  }).formatToParts(new Date(ms));
  const p = (type) => parts.find((x) => x.type === type)?.value ?? "";
  return `${p("year")}-${p("month")}-${p("day")} ${p("hour")}:${p("minute")}`;
}
function parseTime(iso) {
  if (iso === null || iso === void 0) return null;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : null;
}

// src/dashboard/page/series.ts
function chartData(kept2, forecast, target, fromTs = -Infinity) {
  const d = {
    x: [],
    value: [],
    point: [],
    lower: [],
    upper: []
  };
  const push = (ts, value, point, lower, upper) => {
    d.x.push(ts / 1e3);
    d.value.push(value);
    d.point.push(point);
    d.lower.push(lower);
    d.upper.push(upper);
  };
  let prev = null;
  for (let i = 0; i < kept2.ts.length; i++) {
    const ts = kept2.ts[i];
    if (ts < fromTs) continue;
    if (prev !== null && kept2.gap[i]) push((prev + ts) / 2, null, null, null, null);
    push(ts, kept2.value[i], kept2.point[i], kept2.lower[i], kept2.upper[i]);
    prev = ts;
  }
  const path = forecast?.targets[target];
  if (forecast && path) {
    forecast.timestamps.forEach((iso, k) => {
      const ts = parseTime(iso);
      if (ts === null || prev !== null && ts <= prev) return;
      push(ts, null, path.point[k], path.lower[k], path.upper[k]);
      prev = ts;
    });
  }
  return d;
}
function bandRows(d) {
  let n = 0;
  for (let i = 0; i < d.x.length; i++) {
    if (Number.isFinite(d.lower[i]) && Number.isFinite(d.upper[i])) n++;
  }
  return n;
}

// src/dashboard/page/chart.ts
function uPlotClass() {
  return globalThis.uPlot;
}
var COLORS = {
  reading: "#1f2937",
  forecast: "#2563eb",
  bound: "rgba(37, 99, 235, 0.45)",
  band: "rgba(37, 99, 235, 0.18)",
  anomaly: "rgba(220, 38, 38, 0.12)",
  now: "#6b7280",
  threshold: "#9333ea",
  opened: "#dc2626",
  resolved: "#16a34a",
  new_normal: "#d97706"
};
var Chart = class {
  el;
  #timeZone;
  #plot = null;
  #data = null;
  #overlay = {
    now: null,
    spans: [],
    marks: [],
    threshold: null,
    crossing: null
  };
  #unit = "";
  constructor(el2, opts = {}) {
    this.el = el2;
    this.#timeZone = opts.timeZone;
    new ResizeObserver(() => this.#resize()).observe(el2);
  }
  /** Draws `data` with `overlay`; `unit` names the target in the legend. */
  update(data, overlay, unit) {
    this.#data = data;
    this.#overlay = overlay;
    if (!this.#plot || unit !== this.#unit) {
      this.#plot?.destroy();
      this.#unit = unit;
      this.#plot = new (uPlotClass())(this.#options(unit), this.#aligned(), this.el);
    } else {
      this.#plot.setData(this.#aligned());
    }
  }
  /** Removes the chart. */
  clear() {
    this.#plot?.destroy();
    this.#plot = null;
    this.#data = null;
    this.el.removeAttribute("data-band-rows");
    this.el.removeAttribute("data-alert-marks");
    this.el.removeAttribute("data-anomaly-spans");
  }
  #aligned() {
    const d = this.#data;
    return [
      d.x,
      d.value,
      d.point,
      d.lower,
      d.upper
    ];
  }
  #size() {
    const width = Math.max(240, Math.floor(this.el.clientWidth));
    return {
      width,
      height: width < 560 ? 240 : 340
    };
  }
  #resize() {
    if (this.#plot) this.#plot.setSize(this.#size());
  }
  #options(unit) {
    const overlay = () => this.#overlay;
    const zone = this.#timeZone;
    return {
      ...this.#size(),
      ...zone === void 0 ? {} : {
        tzDate: (ts) => uPlotClass().tzDate(new Date(ts * 1e3), zone)
      },
      legend: {
        live: false
      },
      cursor: {
        drag: {
          x: false,
          y: false
        }
      },
      scales: {
        x: {
          time: true
        },
        y: {
          // the threshold stays in view
          range: (_u, min, max) => {
            const t = overlay().threshold;
            let lo = min, hi = max;
            if (t !== null) {
              lo = Math.min(lo, t);
              hi = Math.max(hi, t);
            }
            if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [
              0,
              1
            ];
            const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.05 || 1;
            return [
              lo - pad,
              hi + pad
            ];
          }
        }
      },
      series: [
        {},
        {
          label: unit,
          stroke: COLORS.reading,
          width: 2,
          points: {
            show: false
          }
        },
        {
          label: "forecast",
          stroke: COLORS.forecast,
          width: 1.5,
          dash: [
            6,
            4
          ],
          points: {
            show: false
          }
        },
        {
          label: "lower bound",
          stroke: COLORS.bound,
          width: 1,
          points: {
            show: false
          }
        },
        {
          label: "upper bound",
          stroke: COLORS.bound,
          width: 1,
          points: {
            show: false
          }
        }
      ],
      bands: [
        {
          series: [
            4,
            3
          ],
          fill: COLORS.band
        }
      ],
      hooks: {
        drawClear: [
          (u) => this.#drawSpans(u)
        ],
        draw: [
          (u) => this.#drawMarks(u)
        ]
      }
    };
  }
  /** The anomalies, behind the lines. */
  #drawSpans(u) {
    const { ctx, bbox } = u;
    const { spans, now } = this.#overlay;
    const [x0, x1] = this.#xRange(u);
    let drawn = 0;
    ctx.save();
    ctx.fillStyle = COLORS.anomaly;
    for (const s of spans) {
      const from = s.from / 1e3, to = (s.to ?? now ?? s.from) / 1e3;
      if (to < x0 || from > x1) continue;
      const a = u.valToPos(Math.max(from, x0), "x", true);
      const b = u.valToPos(Math.min(to, x1), "x", true);
      ctx.fillRect(a, bbox.top, Math.max(2, b - a), bbox.height);
      drawn++;
    }
    ctx.restore();
    this.el.dataset.anomalySpans = String(drawn);
  }
  /** The now line, the threshold, the crossing and the alert marks, over the lines. */
  #drawMarks(u) {
    const { ctx, bbox } = u;
    const { now, marks, threshold, crossing } = this.#overlay;
    const dpr = globalThis.devicePixelRatio || 1;
    const [x0, x1] = this.#xRange(u);
    ctx.save();
    ctx.font = `${11 * dpr}px system-ui, sans-serif`;
    ctx.textAlign = "left";
    ctx.textBaseline = "alphabetic";
    ctx.lineWidth = dpr;
    const vline = (ms, color, label, row) => {
      const x = Math.round(u.valToPos(ms / 1e3, "x", true));
      ctx.strokeStyle = color;
      ctx.setLineDash([
        4 * dpr,
        3 * dpr
      ]);
      ctx.beginPath();
      ctx.moveTo(x, bbox.top);
      ctx.lineTo(x, bbox.top + bbox.height);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = color;
      ctx.fillText(label, x + 3 * dpr, bbox.top + (11 + 13 * row) * dpr);
    };
    if (now !== null && now / 1e3 >= x0 && now / 1e3 <= x1) vline(now, COLORS.now, "now", 0);
    if (threshold !== null) {
      const y = Math.round(u.valToPos(threshold, "y", true));
      ctx.strokeStyle = COLORS.threshold;
      ctx.setLineDash([
        2 * dpr,
        3 * dpr
      ]);
      ctx.beginPath();
      ctx.moveTo(bbox.left, y);
      ctx.lineTo(bbox.left + bbox.width, y);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    if (crossing !== null && crossing / 1e3 >= x0 && crossing / 1e3 <= x1) {
      vline(crossing, COLORS.threshold, "crosses", 1);
    }
    let drawn = 0;
    const size = 6 * dpr, base = bbox.top + bbox.height;
    for (const m of marks) {
      if (m.ts / 1e3 < x0 || m.ts / 1e3 > x1) continue;
      const x = u.valToPos(m.ts / 1e3, "x", true);
      ctx.fillStyle = COLORS[m.type] ?? COLORS.opened;
      ctx.beginPath();
      ctx.moveTo(x, base - 2 * size);
      ctx.lineTo(x - size, base);
      ctx.lineTo(x + size, base);
      ctx.closePath();
      ctx.fill();
      drawn++;
    }
    ctx.restore();
    this.el.dataset.alertMarks = String(drawn);
    this.el.dataset.bandRows = String(this.#data ? bandRows(this.#data) : 0);
  }
  #xRange(u) {
    const s = u.scales.x;
    return [
      s.min ?? -Infinity,
      s.max ?? Infinity
    ];
  }
};

// src/dashboard/page/marks.ts
function ofStream(alerts, stream) {
  return [
    ...alerts
  ].filter((a) => a.stream === stream).sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
function anomalySpans(alerts, stream) {
  const spans = [];
  let open = null;
  for (const a of ofStream(alerts, stream)) {
    if (a.type === "opened") {
      if (open) open.to = a.ts;
      open = {
        from: a.since,
        to: null
      };
      spans.push(open);
    } else if (open) {
      open.to = a.ts;
      open = null;
    } else {
      spans.push({
        from: a.since,
        to: a.ts
      });
    }
  }
  return spans;
}
function alertMarks(alerts, stream) {
  return ofStream(alerts, stream).map((a) => ({
    id: a.id,
    ts: a.ts,
    type: a.type
  }));
}

// src/replay/report_page/main.ts
var UTC = {
  timeZone: "UTC"
};
var DAY = 864e5;
var STEP_COLORS = [
  "#2563eb",
  "#6b7280",
  "#d97706",
  "#16a34a",
  "#9333ea",
  "#0891b2",
  "#be185d"
];
function byId(id) {
  const el2 = document.getElementById(id);
  if (!el2) throw new Error(`Cannot draw the report: the page must have #${id}`);
  return el2;
}
function el(tag, text = "", attrs = {}) {
  const e = document.createElement(tag);
  e.textContent = text;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}
function uPlotClass2() {
  return globalThis.uPlot;
}
function err(v) {
  return v === null || v === void 0 || !Number.isFinite(v) ? NONE : v.toFixed(4);
}
function drawSummary(r) {
  const s = r.summary;
  byId("file").textContent = s.file;
  byId("meta").textContent = `${s.rows} rows \xD7 ${s.columns.length} columns (${s.columns.join(", ")}), targets ${s.targets.join(", ")}; preset ${s.preset}${s.without.length ? ` without ${s.without.join(", ")}` : ""}, Hmax ${s.hmax}, period ${formatDuration(s.periodMs)}, protocol ${s.protocol}, times ${s.timeForm}. ${s.readings} readings, ${s.rejectedRows} rejected, ${s.learned} learned from, ${s.alerts} alert events, ${s.gaps} gaps.`;
  const experts = Object.keys(s.horizons[0]?.experts ?? {});
  const head = byId("horizons-head");
  for (const t of [
    "H",
    "origins",
    "MSE",
    "MAE",
    "cover",
    "cover@H",
    ...experts
  ]) {
    head.append(el("th", t, {
      scope: "col"
    }));
  }
  const body = byId("horizons-body");
  for (const h of s.horizons) {
    const tr = el("tr");
    for (const t of [
      String(h.horizon),
      String(h.origins),
      err(h.mse),
      err(h.mae),
      formatPercent(h.coverage),
      formatPercent(h.coverageAtH),
      ...experts.map((e) => err(h.experts[e]))
    ]) tr.append(el("td", t));
    body.append(tr);
  }
}
function kept(s, from, to) {
  const k = {
    ts: [],
    value: [],
    point: [],
    lower: [],
    upper: [],
    gap: []
  };
  for (let i = 0; i < s.ts.length; i++) {
    if (s.ts[i] < from || s.ts[i] > to) continue;
    k.ts.push(s.ts[i]);
    k.value.push(s.value[i]);
    k.point.push(s.point[i]);
    k.lower.push(s.lower[i]);
    k.upper.push(s.upper[i]);
    k.gap.push(s.gap[i]);
  }
  return k;
}
function drawSeries(r) {
  const chart = new Chart(byId("chart"), UTC);
  const target = byId("target");
  const span = byId("span");
  const from = byId("from");
  const shown = byId("shown");
  for (const s of r.series) target.append(el("option", s.target, {
    value: s.target
  }));
  const first = r.series[0]?.ts[0] ?? 0;
  const last = r.series[0]?.ts.at(-1) ?? 0;
  const length = last - first;
  for (const [label, ms] of [
    [
      "1 day",
      DAY
    ],
    [
      "1 week",
      7 * DAY
    ],
    [
      "4 weeks",
      28 * DAY
    ]
  ]) {
    if (ms < length) span.append(el("option", label, {
      value: String(ms)
    }));
  }
  span.append(el("option", "all", {
    value: "all"
  }));
  span.value = span.querySelector('option[value="604800000"]') ? "604800000" : "all";
  const alerts = r.alerts;
  const overlay = (stream) => ({
    now: null,
    spans: anomalySpans(alerts, stream),
    marks: alertMarks(alerts, stream),
    threshold: null,
    crossing: null
  });
  const draw = () => {
    const s = r.series.find((x) => x.target === target.value) ?? r.series[0];
    if (!s) return;
    const width = span.value === "all" ? length : Number(span.value);
    const room = Math.max(0, length - width);
    from.disabled = room === 0;
    const start = first + room * Number(from.value) / 1e3;
    const end = start + width;
    shown.textContent = `${formatTime(start, UTC)} to ${formatTime(end, UTC)} UTC`;
    chart.update(chartData(kept(s, start, end), null, s.target), overlay(r.alerts[0]?.stream ?? ""), s.target);
  };
  target.addEventListener("change", draw);
  span.addEventListener("change", draw);
  from.addEventListener("input", draw);
  draw();
  return (ts) => {
    const width = span.value === "all" ? length : Number(span.value);
    const room = Math.max(0, length - width);
    from.value = room === 0 ? "0" : String(Math.round(1e3 * Math.min(1, Math.max(0, (ts - width / 2 - first) / room))));
    draw();
    byId("chart").scrollIntoView({
      block: "center"
    });
  };
}
function drawSteps(r) {
  const box = byId("steps");
  const names = Object.keys(r.steps[0]?.mse ?? {});
  const order = [
    "blend",
    ...names.filter((n) => n !== "blend")
  ];
  const data = [
    r.steps.map((s) => s.step),
    ...order.map((n) => r.steps.map((s) => s.mse[n] ?? null))
  ];
  const width = () => Math.max(240, Math.floor(box.clientWidth));
  const plot = new (uPlotClass2())({
    width: width(),
    height: 260,
    scales: {
      x: {
        time: false
      }
    },
    axes: [
      {
        label: "steps ahead"
      },
      {
        label: "MSE (z-scored)"
      }
    ],
    legend: {
      live: false
    },
    cursor: {
      drag: {
        x: false,
        y: false
      }
    },
    series: [
      {
        label: "step"
      },
      ...order.map((n, k) => ({
        label: n,
        stroke: STEP_COLORS[k % STEP_COLORS.length],
        width: n === "blend" ? 2.5 : 1.25,
        points: {
          show: r.steps.length <= 48
        }
      }))
    ]
  }, data, box);
  new ResizeObserver(() => plot.setSize({
    width: width(),
    height: 260
  })).observe(box);
  box.dataset.steps = String(r.steps.length);
  box.dataset.series = order.join(",");
  const cover = r.steps.map((s) => s.coverage);
  byId("steps-note").textContent = `${r.steps.length} steps; the interval held ${formatPercent(cover[0])} of the readings one step ahead and ${formatPercent(cover.at(-1))} at step ${r.steps.length}.`;
}
function drawAlerts(alerts, show) {
  const list = byId("alerts");
  byId("no-alerts").hidden = alerts.length > 0;
  for (const a of alerts) {
    const li = el("li", "", {
      "data-type": a.type
    });
    const when = el("button", `${formatTime(a.ts, UTC)} UTC`, {
      type: "button"
    });
    when.addEventListener("click", () => show(a.ts));
    li.append(when, el("span", ` ${a.type.replace("_", " ")} `, {
      class: "type"
    }));
    li.append(el("span", `line ${a.line}: ${a.message}`));
    list.append(li);
  }
}
function main() {
  const r = JSON.parse(byId("report-data").textContent ?? "");
  drawSummary(r);
  const show = drawSeries(r);
  drawSteps(r);
  drawAlerts(r.alerts, show);
  byId("made").textContent = `Made by ${r.made.by} at ${r.made.at}. Times are UTC.`;
  document.body.dataset.ready = "true";
}
main();
