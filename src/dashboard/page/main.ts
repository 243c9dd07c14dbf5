/**
 * The dashboard page: the stream list, the chosen stream's chart, facts and
 * threshold crossing, and the live alert feed with acknowledgement. It
 * polls the API (the list every 2 s, the chosen stream's new readings and
 * forecast every second, the open alerts every 5 s to see them
 * acknowledged elsewhere, nothing while the tab is hidden) and listens to
 * the alert feed (SSE). Every URL is made by apiUrl() (api_url.ts).
 *
 * When forecastd takes API tokens, the API answers 401 until the page has
 * one: it then shows the token form, keeps the token (token_store.ts) and
 * sends it with every request; a read token shows everything but cannot
 * acknowledge, which the page says.
 *
 * The logic that needs no browser lives in the modules it imports, tested
 * in tests/dashboard/; this file only wires them to the DOM.
 *
 * Longer than 500 lines: the page's DOM wiring, one function per panel that
 * shares the page's state (the chosen stream, the token, the timers); the
 * logic that can be tested without a browser lives in the modules beside it
 * (series.ts, format.ts, alert_list.ts, access.ts, ...).
 */
import type {
  AuthJson,
  CrossingJson,
  ForecastJson,
  RecentJson,
  StoredAlert,
  StreamJson,
} from "./api_types.ts";
import {
  ApiError,
  getAllStreams,
  getAuth,
  getJson,
  openAlertEvents,
  postJson,
} from "./api_client.ts";
import { apiPath, credentials } from "./api_url.ts";
import { type Access, describeAccess } from "./access.ts";
import { MemoryStorage, type StorageLike, TokenStore } from "./token_store.ts";
import { alertContext, AlertList, alertTitle, canAcknowledge } from "./alert_list.ts";
import { Chart } from "./chart.ts";
import { crossingInput, describeCrossing } from "./crossing.ts";
import {
  formatCoverage,
  formatDuration,
  formatPercent,
  formatSkill,
  formatTime,
  formatValue,
  parseTime,
  stateLabel,
} from "./format.ts";
import { alertMarks, anomalySpans } from "./marks.ts";
import { chartData, emptyKept, type Kept, mergeRecent } from "./series.ts";

const STREAMS_EVERY_MS = 2000;
const CHOSEN_EVERY_MS = 1000;
const ACKS_EVERY_MS = 5000;
/** Open alerts asked about again per round, the newest. */
const ACKS_POLLED = 20;
/** How long the page waits before opening the alert feed again after the browser gave up. */
const FEED_RETRY_MS = 3000;

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`Cannot start the dashboard: the page must have #${id}: it is missing`);
  return el as T;
}

/** An element with attributes and children (text is set as text, never as HTML). */
function h(
  tag: string,
  attrs: Record<string, string | boolean | undefined> = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
  return el;
}

const ui = {
  live: byId("live"),
  access: byId("access"),
  tokenChange: byId<HTMLButtonElement>("token-change"),
  accessNotice: byId("access-notice"),
  tokenPanel: byId("token-panel"),
  tokenError: byId("token-error"),
  tokenForm: byId<HTMLFormElement>("token-form"),
  tokenInput: byId<HTMLInputElement>("token-input"),
  tokenRemember: byId<HTMLInputElement>("token-remember"),
  layout: byId("layout"),
  problem: byId("problem"),
  streams: byId<HTMLTableSectionElement>("stream-rows"),
  noStreams: byId("no-streams"),
  title: byId("detail-title"),
  target: byId<HTMLSelectElement>("target"),
  targetLabel: byId("target-label"),
  window: byId<HTMLSelectElement>("window"),
  windowLabel: byId("window-label"),
  noChosen: byId("no-chosen"),
  detailBody: byId("detail-body"),
  chart: new Chart(byId("chart")),
  chartNote: byId("chart-note"),
  crossingForm: byId<HTMLFormElement>("crossing-form"),
  threshold: byId<HTMLInputElement>("threshold"),
  crossing: byId("crossing"),
  facts: byId("facts"),
  alerts: byId<HTMLUListElement>("alerts"),
  noAlerts: byId("no-alerts"),
};

const state = {
  streams: [] as StreamJson[],
  chosen: null as string | null,
  target: null as string | null,
  kept: emptyKept() as Kept,
  forecast: null as ForecastJson | null,
  /** Alerts of the chosen stream, for the chart. */
  streamAlerts: new Map<string, StoredAlert>(),
  alerts: new AlertList(200),
  crossing: null as CrossingJson | null,
  problems: new Map<string, string>(),
  /** What the page's token may do (null: not known yet). */
  auth: null as AuthJson | null,
  /** True while the page waits for a token: nothing is polled. */
  locked: false,
  /** The live alert feed, while it is open. */
  feed: null as EventSource | null,
};

/** The browser's storage, or memory where it cannot be used. */
function storage(kind: "sessionStorage" | "localStorage"): StorageLike {
  try {
    const s = globalThis[kind];
    s.getItem("forecastd.probe");
    return s;
  } catch {
    return new MemoryStorage();
  }
}
const tokens = new TokenStore(storage("sessionStorage"), storage("localStorage"));
credentials.token = tokens.load()?.token ?? null;

// ---- problems and status ---------------------------------------------------

function setProblem(key: string, message: string | null): void {
  if (message === null) state.problems.delete(key);
  else state.problems.set(key, message);
  const text = [...state.problems.values()].join(" · ");
  ui.problem.textContent = text;
  ui.problem.hidden = text === "";
}

function messageOf(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  return `Cannot reach forecastd: ${e instanceof Error ? e.message : String(e)}`;
}

/** Shows `e` as the problem `key`; a 401 asks for a token instead. */
function fail(key: string, e: unknown): void {
  if (e instanceof ApiError && e.status === 401) askForToken(e.message);
  else setProblem(key, messageOf(e));
}

// ---- the token ----------------------------------------------------------

/** What the page's token may do, as it shows it now. */
function access(): Access {
  return describeAccess(state.auth);
}

/**
 * Asks `GET /v1/auth` what the page may do; true when it may go on, false
 * when it needs a token (the form is shown).
 */
async function checkAccess(): Promise<boolean> {
  try {
    state.auth = await getAuth();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      askForToken(credentials.token === null ? null : e.message);
      return false;
    }
    // forecastd unreachable, or older: go on, the API refuses what it must
    state.auth = null;
    setProblem("auth", messageOf(e));
    return true;
  }
  setProblem("auth", null);
  renderAccess();
  return true;
}

function renderAccess(): void {
  const a = access();
  ui.access.hidden = a.badge === null;
  ui.access.textContent = a.badge ?? "";
  if (state.auth) ui.access.dataset.role = state.auth.role;
  ui.tokenChange.hidden = !(state.auth?.required ?? false);
  ui.accessNotice.hidden = a.notice === null;
  ui.accessNotice.textContent = a.notice ?? "";
}

/** Stops polling and shows the token form; `refused`: why the last token was refused. */
function askForToken(refused: string | null): void {
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

function setLive(status: "live" | "reconnecting"): void {
  ui.live.dataset.status = status;
  ui.live.textContent = status === "live" ? "live" : "reconnecting…";
}

// ---- the stream list -------------------------------------------------------

function chosenStream(): StreamJson | undefined {
  return state.streams.find((s) => s.id === state.chosen);
}

async function loadStreams(): Promise<void> {
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

function renderStreams(): void {
  ui.noStreams.hidden = state.streams.length > 0;
  ui.streams.replaceChildren(...state.streams.map((s) => {
    const first = s.horizons[0];
    const chosen = s.id === state.chosen;
    const button = h("button", { type: "button", class: "stream-link" }, s.id);
    button.addEventListener("click", () => void choose(s.id));
    return h(
      "tr",
      { "data-stream": s.id, "aria-current": chosen ? "true" : undefined },
      h("td", {}, button),
      h("td", {}, h("span", { class: `state state-${s.state}` }, stateLabel(s.state))),
      h("td", { class: "num col-readings" }, String(s.readings)),
      h("td", { class: "num" }, formatSkill(first?.skill)),
      h("td", { class: "num" }, formatPercent(first?.coverage)),
    );
  }));
}

// ---- the chosen stream -----------------------------------------------------

function clearChosen(): void {
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

async function choose(id: string): Promise<void> {
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
  ui.target.replaceChildren(...(s?.targets ?? []).map((t) => h("option", { value: t }, t)));
  ui.targetLabel.hidden = (s?.targets.length ?? 0) < 2;
  ui.chart.clear();
  renderStreams();
  renderFacts();
  renderWindowOptions();
  try {
    const { alerts } = await getJson<{ alerts: StoredAlert[] }>(
      apiPath("v1/streams", id, "anomalies"),
      { order: "desc", limit: 200 },
    );
    for (const a of alerts) state.streamAlerts.set(a.id, a);
    setProblem("anomalies", null);
  } catch (e) {
    fail("anomalies", e);
  }
  await refreshChosen();
}

function renderWindowOptions(): void {
  const s = chosenStream();
  const period = s?.periodMs ?? null;
  const H = s?.model.horizons ?? 24;
  const span = (k: number) => (period ? ` (${formatDuration(k * H * period)})` : "");
  const keep = ui.window.value || "3";
  ui.window.replaceChildren(
    h("option", { value: "3" }, `3× the horizon${span(3)}`),
    h("option", { value: "1" }, `1× the horizon${span(1)}`),
    h("option", { value: "all" }, "all kept"),
  );
  ui.window.value = keep;
}

let refreshing = false;
async function refreshChosen(): Promise<void> {
  const id = state.chosen, target = state.target;
  if (id === null || target === null || refreshing) return;
  refreshing = true;
  try {
    const last = state.kept.ts.length ? state.kept.ts[state.kept.ts.length - 1] : undefined;
    const [recent, forecast] = await Promise.all([
      getJson<RecentJson>(apiPath("v1/streams", id, "recent"), { after: last }),
      getJson<ForecastJson>(apiPath("v1/streams", id, "forecast")).catch((e) => {
        if (e instanceof ApiError && e.status === 409) return null; // no reading yet
        throw e;
      }),
    ]);
    if (state.chosen !== id || state.target !== target) return; // chosen again meanwhile
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

function draw(): void {
  const target = state.target;
  if (state.chosen === null || target === null) return;
  const origin = parseTime(state.forecast?.origin);
  const now = origin ?? (state.kept.ts.at(-1) ?? null);
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
    crossing: parseTime(state.crossing?.crossing),
  }, target);
  const kept = state.kept.ts.length;
  ui.chartNote.textContent = kept === 0
    ? "Waiting for readings…"
    : `${kept} reading${kept === 1 ? "" : "s"} kept since forecastd started` +
      (state.forecast ? `; forecast from ${formatTime(origin)}` : "");
}

function renderFacts(): void {
  const s = chosenStream();
  if (!s) return;
  const first = s.horizons[0], last = s.horizons[s.horizons.length - 1];
  const coverage = state.forecast?.coverage ?? 0.9;
  const rows: [string, string][] = [
    ["State", stateLabel(s.state)],
    ["Readings", `${s.readings} (${s.learnedReadings} learned)`],
    ["Last reading", formatTime(s.lastReading)],
    ["Period", s.periodMs ? formatDuration(s.periodMs) : "–"],
    ["Skill, 1 step", formatSkill(first?.skill)],
    [`Skill, ${last?.horizon ?? "–"} steps`, formatSkill(last?.skill)],
    ["Coverage, 1 step", formatCoverage(first?.coverage, coverage)],
    [`Coverage, ${last?.horizon ?? "–"} steps`, formatCoverage(last?.coverage, coverage)],
    ["Experts", s.model.experts.join(", ")],
  ];
  ui.facts.replaceChildren(...rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

// ---- threshold crossing ----------------------------------------------------

async function computeCrossing(explicit: boolean): Promise<void> {
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
  let answer: CrossingJson | null = null, text: string;
  try {
    answer = await getJson<CrossingJson>(apiPath("v1/streams", id, "crossing"), {
      target,
      [input.direction]: input.threshold,
    });
    text = describeCrossing(answer);
  } catch (e) {
    text = messageOf(e);
  }
  if (state.chosen !== id || state.target !== target) return; // chosen again meanwhile
  state.crossing = answer;
  ui.crossing.textContent = text;
  draw();
}

// ---- alerts ----------------------------------------------------------------

async function loadAlerts(): Promise<void> {
  try {
    const { alerts } = await getJson<{ alerts: StoredAlert[] }>("v1/alerts", {
      order: "desc",
      limit: 50,
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

/** Opens the live alert feed after the newest alert the page has. */
function openFeed(): void {
  state.feed?.close();
  const feed = openAlertEvents(state.alerts.newestId(), {
    alert(a) {
      showAlert(a);
      void loadStreams(); // its state changed
    },
    status: setLive,
    closed() {
      // refused (a token revoked by a restart?) or gone: ask what the page may do, then again
      if (state.feed !== feed) return;
      state.feed = null;
      setTimeout(async () => {
        if (state.locked || state.feed !== null) return;
        if (await checkAccess()) openFeed();
      }, FEED_RETRY_MS);
    },
  });
  state.feed = feed;
}

/** Puts `a` (new, or changed) in the list and on the chart. */
function showAlert(a: StoredAlert): void {
  if (!state.alerts.put(a)) return;
  renderAlerts();
  if (a.stream === state.chosen) {
    state.streamAlerts.set(a.id, a);
    draw();
  }
}

/** Asks again about the open alerts shown: one acknowledged elsewhere shows so. */
async function pollAcks(): Promise<void> {
  const ids = state.alerts.openIds(ACKS_POLLED);
  const answers = await Promise.allSettled(
    ids.map((id) => getJson<StoredAlert>(apiPath("v1/alerts", id))),
  );
  for (const r of answers) {
    if (r.status === "fulfilled") showAlert(r.value);
    else if (!(r.reason instanceof ApiError && r.reason.status === 404)) {
      return fail("alerts", r.reason);
    }
  }
}

function renderAlerts(): void {
  const items = state.alerts.items();
  ui.noAlerts.hidden = items.length > 0;
  ui.alerts.replaceChildren(...items.map(alertItem));
}

function alertItem(a: StoredAlert): HTMLElement {
  const stream = h("button", { type: "button", class: "stream-link" }, a.stream);
  stream.addEventListener("click", () => void choose(a.stream));
  const context = alertContext(a);
  const facts = [
    `score ${formatValue(a.score, 2)}`,
    `more unusual than ${formatPercent(a.percentile)} of its readings`,
    `${a.unusual.count} of the last ${a.unusual.of} unusual`,
    a.learning ? "learning" : "learning paused",
  ];
  const item = h(
    "li",
    {
      class: `alert alert-${a.type}`,
      "data-id": a.id,
      "data-type": a.type,
      "data-stream": a.stream,
      "data-state": a.state,
    },
    h(
      "div",
      { class: "alert-head" },
      h("span", { class: "badge" }, alertTitle(a)),
      stream,
      h("time", { datetime: new Date(a.ts).toISOString() }, formatTime(a.ts)),
      h("span", { class: "alert-state" }, a.state),
    ),
    context.length
      ? h(
        "table",
        { class: "context" },
        ...context.map((c) =>
          h(
            "tr",
            { class: c.outside ? "outside" : undefined },
            h("th", { scope: "row" }, c.target),
            h("td", { class: "num" }, formatValue(c.value)),
            h(
              "td",
              {},
              `forecast ${formatValue(c.forecast)} (${formatValue(c.lower)} to ${
                formatValue(c.upper)
              })`,
            ),
          )
        ),
      )
      : null,
    h("p", { class: "alert-facts" }, facts.join(" · ")),
    h("p", { class: "alert-message" }, a.message),
  );
  if (canAcknowledge(a)) {
    const { canWrite } = access();
    const ack = h("button", {
      type: "button",
      class: "ack",
      disabled: !canWrite,
      title: canWrite ? undefined : "Acknowledging needs a token with the write role",
    }, "Acknowledge");
    ack.addEventListener("click", () => void acknowledge(a.id, ack as HTMLButtonElement));
    item.append(ack);
  } else if (a.acknowledgedAt !== undefined) {
    item.append(h("p", { class: "alert-acked" }, `acknowledged ${formatTime(a.acknowledgedAt)}`));
  }
  return item;
}

async function acknowledge(id: string, button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  try {
    const a = await postJson<StoredAlert>(apiPath("v1/alerts", id, "ack"));
    state.alerts.put(a);
    if (state.streamAlerts.has(a.id)) state.streamAlerts.set(a.id, a);
    setProblem("ack", null);
    renderAlerts();
  } catch (e) {
    button.disabled = false;
    fail("ack", e);
  }
}

// ---- wiring ----------------------------------------------------------------

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

let ticks = 0;
setInterval(() => {
  if (document.hidden || state.locked) return;
  ticks++;
  void refreshChosen();
  if (ticks % (STREAMS_EVERY_MS / CHOSEN_EVERY_MS) === 0) void loadStreams();
  if (ticks % (ACKS_EVERY_MS / CHOSEN_EVERY_MS) === 0) void pollAcks();
}, CHOSEN_EVERY_MS);

/** Starts (or, after a token was given, resumes) the page once it may read. */
async function start(): Promise<void> {
  if (!(await checkAccess())) return;
  state.locked = false;
  ui.tokenPanel.hidden = true;
  ui.layout.hidden = false;
  setLive("reconnecting");
  ui.live.textContent = "connecting…";
  renderAlerts(); // the Acknowledge buttons follow the token's role
  await loadStreams();
  if (state.locked) return;
  await loadAlerts();
}

await start();
