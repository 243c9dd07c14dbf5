// deno-fmt-ignore-file
// deno-lint-ignore-file
// @ts-nocheck
// Built from src/dashboard/page/ by `deno task build:dashboard` (deno bundle): do not edit.
// src/dashboard/page/api_url.ts
var credentials = {
  token: null
};
function apiUrl(path, query = {}, base) {
  const url = new URL(path.replace(/^\/+/, ""), base ?? globalThis.location.href);
  for (const [k, v] of Object.entries(query)) {
    if (v !== void 0 && v !== null) url.searchParams.set(k, String(v));
  }
  return url.href;
}
function authHeaders() {
  return credentials.token === null ? {} : {
    authorization: `Bearer ${credentials.token}`
  };
}
function feedUrl(path, query = {}, base) {
  return apiUrl(path, {
    ...query,
    token: credentials.token
  }, base);
}
function apiPath(...segments) {
  return segments.map((s, i) => i === 0 ? s : encodeURIComponent(s)).join("/");
}

// src/dashboard/page/api_client.ts
var ApiError = class extends Error {
  status;
  constructor(status, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
};
async function requestJson(path, query = {}, init = {}, fetchFn = fetch) {
  const url = apiUrl(path, query);
  const res = await fetchFn(url, {
    ...init,
    headers: {
      accept: "application/json",
      ...authHeaders(),
      ...init.headers
    }
  });
  const text = await res.text();
  let body = null;
  try {
    body = text === "" ? null : JSON.parse(text);
  } catch {
  }
  if (!res.ok) {
    const message = typeof body?.error === "string" ? body.error : `${init.method ?? "GET"} ${path} answered ${res.status}`;
    throw new ApiError(res.status, message);
  }
  return body;
}
function getJson(path, query = {}, fetchFn) {
  return requestJson(path, query, {}, fetchFn);
}
function postJson(path, fetchFn) {
  return requestJson(path, {}, {
    method: "POST"
  }, fetchFn);
}
var STREAM_PAGE = 1e3;
async function getAllStreams(fetchFn) {
  const out = [];
  let after = null;
  for (; ; ) {
    const page = await getJson("v1/streams", {
      limit: STREAM_PAGE,
      after
    }, fetchFn);
    out.push(...page.streams);
    if (page.next === null || page.next === void 0 || after !== null && page.next <= after) {
      return out;
    }
    after = page.next;
  }
}
function getAuth(fetchFn) {
  return getJson("v1/auth", {}, fetchFn);
}
function openAlertEvents(after, on) {
  const source = new EventSource(feedUrl("v1/alerts/events", {
    after: after ?? "0"
  }));
  source.addEventListener("alert", (e) => on.alert(JSON.parse(e.data)));
  source.addEventListener("open", () => on.status("live"));
  source.addEventListener("error", () => {
    on.status("reconnecting");
    if (source.readyState === EventSource.CLOSED) on.closed();
  });
  return source;
}

// src/dashboard/page/access.ts
var READ_ONLY_NOTICE = "This token can read but not write: acknowledging an alert needs a token with the write role (Change token).";
function describeAccess(auth) {
  if (auth === null || !auth.required) return {
    badge: null,
    canWrite: true,
    notice: null
  };
  if (auth.role === "write") return {
    badge: "write token",
    canWrite: true,
    notice: null
  };
  return {
    badge: "read-only token",
    canWrite: false,
    notice: READ_ONLY_NOTICE
  };
}

// src/dashboard/page/token_store.ts
var TOKEN_KEY = "forecastd.token";
var TokenStore = class {
  #session;
  #local;
  constructor(session, local) {
    this.#session = session;
    this.#local = local;
  }
  /** The kept token, or null. */
  load() {
    const session = read(this.#session);
    if (session !== null) return {
      token: session,
      remembered: false
    };
    const local = read(this.#local);
    return local === null ? null : {
      token: local,
      remembered: true
    };
  }
  /** Keeps `token` for the session, or on the device with `remember`, and drops the other copy. */
  save(token, remember) {
    const [keep, drop] = remember ? [
      this.#local,
      this.#session
    ] : [
      this.#session,
      this.#local
    ];
    remove(drop);
    try {
      keep.setItem(TOKEN_KEY, token);
    } catch {
    }
  }
  /** Forgets the token in both places. */
  forget() {
    remove(this.#session);
    remove(this.#local);
  }
};
function read(storage2) {
  try {
    const v = storage2.getItem(TOKEN_KEY);
    return v === null || v === "" ? null : v;
  } catch {
    return null;
  }
}
function remove(storage2) {
  try {
    storage2.removeItem(TOKEN_KEY);
  } catch {
  }
}
var MemoryStorage = class {
  #items = /* @__PURE__ */ new Map();
  getItem(key) {
    return this.#items.get(key) ?? null;
  }
  setItem(key, value) {
    this.#items.set(key, value);
  }
  removeItem(key) {
    this.#items.delete(key);
  }
};

// src/dashboard/page/alert_list.ts
var AlertList = class {
  max;
  #byId = /* @__PURE__ */ new Map();
  constructor(max = 200) {
    this.max = max;
  }
  /** Adds or replaces `alert`; returns false when it was already there unchanged. */
  put(alert) {
    const had = this.#byId.get(alert.id);
    if (had && JSON.stringify(had) === JSON.stringify(alert)) return false;
    this.#byId.set(alert.id, alert);
    if (this.#byId.size > this.max) {
      const oldest = [
        ...this.#byId.keys()
      ].sort()[0];
      this.#byId.delete(oldest);
    }
    return true;
  }
  get(id) {
    return this.#byId.get(id);
  }
  /** Newest first (ids are 16-digit strings: string order is id order). */
  items() {
    return [
      ...this.#byId.values()
    ].sort((a, b) => a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
  }
  /**
   * The ids of the newest `max` alerts that can still be acknowledged: what
   * the page asks about again to see an acknowledgement made elsewhere.
   */
  openIds(max) {
    return this.items().filter(canAcknowledge).slice(0, max).map((a) => a.id);
  }
  /** The newest id, or null with none. */
  newestId() {
    let newest = null;
    for (const id of this.#byId.keys()) if (newest === null || id > newest) newest = id;
    return newest;
  }
  get size() {
    return this.#byId.size;
  }
};
function alertTitle(a) {
  switch (a.type) {
    case "opened":
      return "Anomaly";
    case "resolved":
      return "Back to normal";
    case "new_normal":
      return "New normal";
    default:
      return String(a.type);
  }
}
function canAcknowledge(a) {
  return a.type === "opened" && a.state === "open";
}
function alertContext(a) {
  return Object.entries(a.targets ?? {}).map(([target, t]) => ({
    target,
    value: t.value,
    forecast: t.forecast,
    lower: t.lower,
    upper: t.upper,
    // bounds are null (NaN in JSON) before the intervals are calibrated
    outside: Number.isFinite(t.lower) && Number.isFinite(t.upper) && (t.value < t.lower || t.value > t.upper)
  }));
}

// src/dashboard/page/format.ts
var NONE = "\u2013";
var STATE_LABELS = {
  warming_up: "warming up",
  learning: "learning",
  anomaly: "anomaly",
  frozen: "frozen"
};
function stateLabel(state2) {
  return STATE_LABELS[state2] ?? state2;
}
function formatValue(v, digits = 3) {
  if (v === null || v === void 0 || !Number.isFinite(v)) return NONE;
  const s = v.toFixed(digits);
  const trimmed = s.includes(".") ? s.replace(/\.?0+$/, "") : s;
  return trimmed === "-0" ? "0" : trimmed;
}
function formatPercent(share) {
  if (share === null || share === void 0 || !Number.isFinite(share)) return NONE;
  return `${Math.round(share * 100)}%`;
}
function formatSkill(skill) {
  if (skill === null || skill === void 0 || !Number.isFinite(skill)) return NONE;
  const p = Math.round(skill * 100);
  return p > 0 ? `+${p}%` : `${p}%`;
}
function formatCoverage(coverage, target) {
  if (coverage === null || coverage === void 0 || !Number.isFinite(coverage)) return NONE;
  return `${formatPercent(coverage)} of ${formatPercent(target)}`;
}
function formatDuration(ms) {
  if (!Number.isFinite(ms)) return NONE;
  const sign = ms < 0 ? "-" : "";
  const s = Math.round(Math.abs(ms) / 1e3);
  if (s < 60) return `${sign}${s} s`;
  const min = Math.round(s / 60);
  if (min < 60) return `${sign}${min} min`;
  const h2 = Math.floor(min / 60), m = min % 60;
  if (h2 < 24) return `${sign}${h2} h${m ? ` ${m} min` : ""}`;
  const d = Math.floor(h2 / 24), hh = h2 % 24;
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
function emptyKept() {
  return {
    ts: [],
    value: [],
    point: [],
    lower: [],
    upper: [],
    gap: []
  };
}
function mergeRecent(kept, json, target, max) {
  const cols = json.targets[target];
  const out = {
    ts: [
      ...kept.ts
    ],
    value: [
      ...kept.value
    ],
    point: [
      ...kept.point
    ],
    lower: [
      ...kept.lower
    ],
    upper: [
      ...kept.upper
    ],
    gap: [
      ...kept.gap
    ]
  };
  if (!cols) return out;
  const last = out.ts.length ? out.ts[out.ts.length - 1] : -Infinity;
  json.timestamps.forEach((iso, i) => {
    const ts = parseTime(iso);
    if (ts === null || ts <= last) return;
    out.ts.push(ts);
    out.value.push(cols.value[i]);
    out.point.push(cols.point[i]);
    out.lower.push(cols.lower[i]);
    out.upper.push(cols.upper[i]);
    out.gap.push(json.gap[i] ?? false);
  });
  const drop = Math.max(0, out.ts.length - max);
  if (drop > 0) {
    for (const k of Object.keys(out)) out[k].splice(0, drop);
  }
  return out;
}
function chartData(kept, forecast, target, fromTs = -Infinity) {
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
  for (let i = 0; i < kept.ts.length; i++) {
    const ts = kept.ts[i];
    if (ts < fromTs) continue;
    if (prev !== null && kept.gap[i]) push((prev + ts) / 2, null, null, null, null);
    push(ts, kept.value[i], kept.point[i], kept.lower[i], kept.upper[i]);
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
  constructor(el, opts = {}) {
    this.el = el;
    this.#timeZone = opts.timeZone;
    new ResizeObserver(() => this.#resize()).observe(el);
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

// src/dashboard/page/crossing.ts
var DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
function crossingInput(text, latest) {
  const s = text.trim().replace(",", ".");
  if (s === "") return {
    ok: false,
    error: "Type a threshold"
  };
  const x = DECIMAL.test(s) ? Number(s) : NaN;
  if (!Number.isFinite(x)) {
    return {
      ok: false,
      error: `The threshold must be a number: current value is "${text.trim()}"`
    };
  }
  const direction = latest !== null && Number.isFinite(latest) && x < latest ? "below" : "above";
  return {
    ok: true,
    threshold: x,
    direction
  };
}
function describeCrossing(c, fmt = {}) {
  const x = formatValue(c.threshold);
  const origin = parseTime(c.origin);
  const at = parseTime(c.crossing);
  const end = parseTime(c.horizonEnd);
  if (at === null) {
    return `Not expected to go ${c.direction} ${x} before ${formatTime(end, fmt)} (the end of the forecast); now ${formatValue(c.value)}`;
  }
  if (origin !== null && at <= origin) {
    return `Already ${c.direction} ${x}: now ${formatValue(c.value)}`;
  }
  const earliest = parseTime(c.earliest), latest = parseTime(c.latest);
  const range = `${formatTime(earliest ?? at, fmt)} to ${latest === null ? "after the forecast's end" : formatTime(latest, fmt)}`;
  return `Expected to go ${c.direction} ${x} at ${formatTime(at, fmt)}, in ${formatDuration(at - (origin ?? at))} after the latest reading (${Math.round(c.coverage * 100)}% interval: ${range})`;
}

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

// src/dashboard/page/main.ts
var STREAMS_EVERY_MS = 2e3;
var CHOSEN_EVERY_MS = 1e3;
var ACKS_EVERY_MS = 5e3;
var ACKS_POLLED = 20;
var FEED_RETRY_MS = 3e3;
function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`Cannot start the dashboard: the page must have #${id}: it is missing`);
  return el;
}
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === void 0 || v === false) continue;
    el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== void 0) el.append(c);
  return el;
}
var ui = {
  live: byId("live"),
  access: byId("access"),
  tokenChange: byId("token-change"),
  accessNotice: byId("access-notice"),
  tokenPanel: byId("token-panel"),
  tokenError: byId("token-error"),
  tokenForm: byId("token-form"),
  tokenInput: byId("token-input"),
  tokenRemember: byId("token-remember"),
  layout: byId("layout"),
  problem: byId("problem"),
  streams: byId("stream-rows"),
  noStreams: byId("no-streams"),
  title: byId("detail-title"),
  target: byId("target"),
  targetLabel: byId("target-label"),
  window: byId("window"),
  windowLabel: byId("window-label"),
  noChosen: byId("no-chosen"),
  detailBody: byId("detail-body"),
  chart: new Chart(byId("chart")),
  chartNote: byId("chart-note"),
  crossingForm: byId("crossing-form"),
  threshold: byId("threshold"),
  crossing: byId("crossing"),
  facts: byId("facts"),
  alerts: byId("alerts"),
  noAlerts: byId("no-alerts")
};
var state = {
  streams: [],
  chosen: null,
  target: null,
  kept: emptyKept(),
  forecast: null,
  /** Alerts of the chosen stream, for the chart. */
  streamAlerts: /* @__PURE__ */ new Map(),
  alerts: new AlertList(200),
  crossing: null,
  problems: /* @__PURE__ */ new Map(),
  /** What the page's token may do (null: not known yet). */
  auth: null,
  /** True while the page waits for a token: nothing is polled. */
  locked: false,
  /** The live alert feed, while it is open. */
  feed: null
};
function storage(kind) {
  try {
    const s = globalThis[kind];
    s.getItem("forecastd.probe");
    return s;
  } catch {
    return new MemoryStorage();
  }
}
var tokens = new TokenStore(storage("sessionStorage"), storage("localStorage"));
credentials.token = tokens.load()?.token ?? null;
function setProblem(key, message) {
  if (message === null) state.problems.delete(key);
  else state.problems.set(key, message);
  const text = [
    ...state.problems.values()
  ].join(" \xB7 ");
  ui.problem.textContent = text;
  ui.problem.hidden = text === "";
}
function messageOf(e) {
  if (e instanceof ApiError) return e.message;
  return `Cannot reach forecastd: ${e instanceof Error ? e.message : String(e)}`;
}
function fail(key, e) {
  if (e instanceof ApiError && e.status === 401) askForToken(e.message);
  else setProblem(key, messageOf(e));
}
function access() {
  return describeAccess(state.auth);
}
async function checkAccess() {
  try {
    state.auth = await getAuth();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      askForToken(credentials.token === null ? null : e.message);
      return false;
    }
    state.auth = null;
    setProblem("auth", messageOf(e));
    return true;
  }
  setProblem("auth", null);
  renderAccess();
  return true;
}
function renderAccess() {
  const a = access();
  ui.access.hidden = a.badge === null;
  ui.access.textContent = a.badge ?? "";
  if (state.auth) ui.access.dataset.role = state.auth.role;
  ui.tokenChange.hidden = !(state.auth?.required ?? false);
  ui.accessNotice.hidden = a.notice === null;
  ui.accessNotice.textContent = a.notice ?? "";
}
function askForToken(refused) {
  if (refused !== null) {
    tokens.forget();
    credentials.token = null;
  }
  state.locked = true;
  state.auth = null;
  state.feed?.close();
  state.feed = null;
  setLive("reconnecting");
  ui.live.textContent = "token needed";
  ui.layout.hidden = true;
  ui.accessNotice.hidden = true;
  ui.access.hidden = true;
  ui.tokenChange.hidden = true;
  ui.tokenPanel.hidden = false;
  ui.tokenError.hidden = refused === null;
  ui.tokenError.textContent = refused === null ? "" : `forecastd refused the token: ${refused}`;
  state.problems.clear();
  setProblem("auth", null);
  ui.tokenInput.focus();
}
ui.tokenForm.addEventListener("submit", (e) => {
  e.preventDefault();
  const token = ui.tokenInput.value.trim();
  if (token === "") return;
  tokens.save(token, ui.tokenRemember.checked);
  credentials.token = token;
  ui.tokenInput.value = "";
  void start();
});
ui.tokenChange.addEventListener("click", () => {
  tokens.forget();
  credentials.token = null;
  askForToken(null);
});
function setLive(status) {
  ui.live.dataset.status = status;
  ui.live.textContent = status === "live" ? "live" : "reconnecting\u2026";
}
function chosenStream() {
  return state.streams.find((s) => s.id === state.chosen);
}
async function loadStreams() {
  try {
    state.streams = await getAllStreams();
    setProblem("streams", null);
  } catch (e) {
    fail("streams", e);
    return;
  }
  renderStreams();
  if (state.chosen === null || !chosenStream()) {
    const wanted = decodeURIComponent(location.hash.slice(1));
    const next = state.streams.find((s) => s.id === wanted) ?? state.streams[0];
    if (next) await choose(next.id);
    else clearChosen();
  } else {
    renderFacts();
  }
}
function renderStreams() {
  ui.noStreams.hidden = state.streams.length > 0;
  ui.streams.replaceChildren(...state.streams.map((s) => {
    const first = s.horizons[0];
    const chosen = s.id === state.chosen;
    const button = h("button", {
      type: "button",
      class: "stream-link"
    }, s.id);
    button.addEventListener("click", () => void choose(s.id));
    return h("tr", {
      "data-stream": s.id,
      "aria-current": chosen ? "true" : void 0
    }, h("td", {}, button), h("td", {}, h("span", {
      class: `state state-${s.state}`
    }, stateLabel(s.state))), h("td", {
      class: "num col-readings"
    }, String(s.readings)), h("td", {
      class: "num"
    }, formatSkill(first?.skill)), h("td", {
      class: "num"
    }, formatPercent(first?.coverage)));
  }));
}
function clearChosen() {
  state.chosen = null;
  state.forecast = null;
  state.kept = emptyKept();
  ui.title.textContent = "No stream";
  ui.noChosen.hidden = false;
  ui.detailBody.hidden = true;
  ui.windowLabel.hidden = true;
  ui.chart.clear();
  ui.facts.replaceChildren();
  ui.chartNote.textContent = "";
  setProblem("chosen", null);
}
async function choose(id) {
  state.chosen = id;
  state.kept = emptyKept();
  state.forecast = null;
  state.crossing = null;
  state.streamAlerts.clear();
  ui.crossing.textContent = "";
  setProblem("chosen", null);
  history.replaceState(null, "", `#${encodeURIComponent(id)}`);
  const s = chosenStream();
  ui.title.textContent = id;
  ui.noChosen.hidden = true;
  ui.detailBody.hidden = false;
  ui.windowLabel.hidden = false;
  state.target = s?.targets[0] ?? null;
  ui.target.replaceChildren(...(s?.targets ?? []).map((t) => h("option", {
    value: t
  }, t)));
  ui.targetLabel.hidden = (s?.targets.length ?? 0) < 2;
  ui.chart.clear();
  renderStreams();
  renderFacts();
  renderWindowOptions();
  try {
    const { alerts } = await getJson(apiPath("v1/streams", id, "anomalies"), {
      order: "desc",
      limit: 200
    });
    for (const a of alerts) state.streamAlerts.set(a.id, a);
    setProblem("anomalies", null);
  } catch (e) {
    fail("anomalies", e);
  }
  await refreshChosen();
}
function renderWindowOptions() {
  const s = chosenStream();
  const period = s?.periodMs ?? null;
  const H = s?.model.horizons ?? 24;
  const span = (k) => period ? ` (${formatDuration(k * H * period)})` : "";
  const keep = ui.window.value || "3";
  ui.window.replaceChildren(h("option", {
    value: "3"
  }, `3\xD7 the horizon${span(3)}`), h("option", {
    value: "1"
  }, `1\xD7 the horizon${span(1)}`), h("option", {
    value: "all"
  }, "all kept"));
  ui.window.value = keep;
}
var refreshing = false;
async function refreshChosen() {
  const id = state.chosen, target = state.target;
  if (id === null || target === null || refreshing) return;
  refreshing = true;
  try {
    const last = state.kept.ts.length ? state.kept.ts[state.kept.ts.length - 1] : void 0;
    const [recent, forecast] = await Promise.all([
      getJson(apiPath("v1/streams", id, "recent"), {
        after: last
      }),
      getJson(apiPath("v1/streams", id, "forecast")).catch((e) => {
        if (e instanceof ApiError && e.status === 409) return null;
        throw e;
      })
    ]);
    if (state.chosen !== id || state.target !== target) return;
    state.kept = mergeRecent(state.kept, recent, target, recent.capacity);
    const moved = forecast?.origin !== state.forecast?.origin;
    state.forecast = forecast;
    setProblem("chosen", null);
    draw();
    if (moved && ui.threshold.value.trim() !== "") await computeCrossing(false);
  } catch (e) {
    fail("chosen", e);
  } finally {
    refreshing = false;
  }
}
function draw() {
  const target = state.target;
  if (state.chosen === null || target === null) return;
  const origin = parseTime(state.forecast?.origin);
  const now = origin ?? state.kept.ts.at(-1) ?? null;
  const s = chosenStream();
  const H = s?.model.horizons ?? 24;
  const period = s?.periodMs ?? state.forecast?.periodMs ?? null;
  const w = ui.window.value;
  const from = w !== "all" && now !== null && period ? now - Number(w) * H * period : -Infinity;
  const data = chartData(state.kept, state.forecast, target, from);
  ui.chart.update(data, {
    now,
    spans: anomalySpans(state.streamAlerts.values(), state.chosen),
    marks: alertMarks(state.streamAlerts.values(), state.chosen),
    threshold: state.crossing?.threshold ?? null,
    crossing: parseTime(state.crossing?.crossing)
  }, target);
  const kept = state.kept.ts.length;
  ui.chartNote.textContent = kept === 0 ? "Waiting for readings\u2026" : `${kept} reading${kept === 1 ? "" : "s"} kept since forecastd started` + (state.forecast ? `; forecast from ${formatTime(origin)}` : "");
}
function renderFacts() {
  const s = chosenStream();
  if (!s) return;
  const first = s.horizons[0], last = s.horizons[s.horizons.length - 1];
  const coverage = state.forecast?.coverage ?? 0.9;
  const rows = [
    [
      "State",
      stateLabel(s.state)
    ],
    [
      "Readings",
      `${s.readings} (${s.learnedReadings} learned)`
    ],
    [
      "Last reading",
      formatTime(s.lastReading)
    ],
    [
      "Period",
      s.periodMs ? formatDuration(s.periodMs) : "\u2013"
    ],
    [
      "Skill, 1 step",
      formatSkill(first?.skill)
    ],
    [
      `Skill, ${last?.horizon ?? "\u2013"} steps`,
      formatSkill(last?.skill)
    ],
    [
      "Coverage, 1 step",
      formatCoverage(first?.coverage, coverage)
    ],
    [
      `Coverage, ${last?.horizon ?? "\u2013"} steps`,
      formatCoverage(last?.coverage, coverage)
    ],
    [
      "Experts",
      s.model.experts.join(", ")
    ]
  ];
  ui.facts.replaceChildren(...rows.flatMap(([k, v]) => [
    h("dt", {}, k),
    h("dd", {}, v)
  ]));
}
async function computeCrossing(explicit) {
  const id = state.chosen, target = state.target;
  if (id === null || target === null) return;
  const latest = state.kept.value.at(-1) ?? null;
  const input = crossingInput(ui.threshold.value, latest);
  if (!input.ok) {
    state.crossing = null;
    if (explicit) ui.crossing.textContent = input.error;
    draw();
    return;
  }
  let answer = null, text;
  try {
    answer = await getJson(apiPath("v1/streams", id, "crossing"), {
      target,
      [input.direction]: input.threshold
    });
    text = describeCrossing(answer);
  } catch (e) {
    text = messageOf(e);
  }
  if (state.chosen !== id || state.target !== target) return;
  state.crossing = answer;
  ui.crossing.textContent = text;
  draw();
}
async function loadAlerts() {
  try {
    const { alerts } = await getJson("v1/alerts", {
      order: "desc",
      limit: 50
    });
    for (const a of alerts) state.alerts.put(a);
    setProblem("alerts", null);
  } catch (e) {
    fail("alerts", e);
    if (state.locked) return;
  }
  renderAlerts();
  openFeed();
}
function openFeed() {
  state.feed?.close();
  const feed = openAlertEvents(state.alerts.newestId(), {
    alert(a) {
      showAlert(a);
      void loadStreams();
    },
    status: setLive,
    closed() {
      if (state.feed !== feed) return;
      state.feed = null;
      setTimeout(async () => {
        if (state.locked || state.feed !== null) return;
        if (await checkAccess()) openFeed();
      }, FEED_RETRY_MS);
    }
  });
  state.feed = feed;
}
function showAlert(a) {
  if (!state.alerts.put(a)) return;
  renderAlerts();
  if (a.stream === state.chosen) {
    state.streamAlerts.set(a.id, a);
    draw();
  }
}
async function pollAcks() {
  const ids = state.alerts.openIds(ACKS_POLLED);
  const answers = await Promise.allSettled(ids.map((id) => getJson(apiPath("v1/alerts", id))));
  for (const r of answers) {
    if (r.status === "fulfilled") showAlert(r.value);
    else if (!(r.reason instanceof ApiError && r.reason.status === 404)) {
      return fail("alerts", r.reason);
    }
  }
}
function renderAlerts() {
  const items = state.alerts.items();
  ui.noAlerts.hidden = items.length > 0;
  ui.alerts.replaceChildren(...items.map(alertItem));
}
function alertItem(a) {
  const stream = h("button", {
    type: "button",
    class: "stream-link"
  }, a.stream);
  stream.addEventListener("click", () => void choose(a.stream));
  const context = alertContext(a);
  const facts = [
    `score ${formatValue(a.score, 2)}`,
    `more unusual than ${formatPercent(a.percentile)} of its readings`,
    `${a.unusual.count} of the last ${a.unusual.of} unusual`,
    a.learning ? "learning" : "learning paused"
  ];
  const item = h("li", {
    class: `alert alert-${a.type}`,
    "data-id": a.id,
    "data-type": a.type,
    "data-stream": a.stream,
    "data-state": a.state
  }, h("div", {
    class: "alert-head"
  }, h("span", {
    class: "badge"
  }, alertTitle(a)), stream, h("time", {
    datetime: new Date(a.ts).toISOString()
  }, formatTime(a.ts)), h("span", {
    class: "alert-state"
  }, a.state)), context.length ? h("table", {
    class: "context"
  }, ...context.map((c) => h("tr", {
    class: c.outside ? "outside" : void 0
  }, h("th", {
    scope: "row"
  }, c.target), h("td", {
    class: "num"
  }, formatValue(c.value)), h("td", {}, `forecast ${formatValue(c.forecast)} (${formatValue(c.lower)} to ${formatValue(c.upper)})`)))) : null, h("p", {
    class: "alert-facts"
  }, facts.join(" \xB7 ")), h("p", {
    class: "alert-message"
  }, a.message));
  if (canAcknowledge(a)) {
    const { canWrite } = access();
    const ack = h("button", {
      type: "button",
      class: "ack",
      disabled: !canWrite,
      title: canWrite ? void 0 : "Acknowledging needs a token with the write role"
    }, "Acknowledge");
    ack.addEventListener("click", () => void acknowledge(a.id, ack));
    item.append(ack);
  } else if (a.acknowledgedAt !== void 0) {
    item.append(h("p", {
      class: "alert-acked"
    }, `acknowledged ${formatTime(a.acknowledgedAt)}`));
  }
  return item;
}
async function acknowledge(id, button) {
  button.disabled = true;
  try {
    const a = await postJson(apiPath("v1/alerts", id, "ack"));
    state.alerts.put(a);
    if (state.streamAlerts.has(a.id)) state.streamAlerts.set(a.id, a);
    setProblem("ack", null);
    renderAlerts();
  } catch (e) {
    button.disabled = false;
    fail("ack", e);
  }
}
ui.target.addEventListener("change", () => {
  state.target = ui.target.value;
  state.kept = emptyKept();
  state.crossing = null;
  ui.crossing.textContent = "";
  void refreshChosen();
});
ui.window.addEventListener("change", draw);
ui.crossingForm.addEventListener("submit", (e) => {
  e.preventDefault();
  void computeCrossing(true);
});
var ticks = 0;
setInterval(() => {
  if (document.hidden || state.locked) return;
  ticks++;
  void refreshChosen();
  if (ticks % (STREAMS_EVERY_MS / CHOSEN_EVERY_MS) === 0) void loadStreams();
  if (ticks % (ACKS_EVERY_MS / CHOSEN_EVERY_MS) === 0) void pollAcks();
}, CHOSEN_EVERY_MS);
async function start() {
  if (!await checkAccess()) return;
  state.locked = false;
  ui.tokenPanel.hidden = true;
  ui.layout.hidden = false;
  setLive("reconnecting");
  ui.live.textContent = "connecting\u2026";
  renderAlerts();
  await loadStreams();
  if (state.locked) return;
  await loadAlerts();
}
await start();
