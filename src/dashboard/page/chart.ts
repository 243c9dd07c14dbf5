/**
 * The chart of the chosen stream, drawn by uPlot (loaded by the page as the
 * global `uPlot`): the readings, the forecast made for each and the one
 * ahead with the interval as a band, a "now" line at the latest reading,
 * the anomalies as shaded spans and each alert as a mark on the time axis,
 * and the threshold the user typed.
 *
 * After each draw the chart element carries what was drawn, for a person
 * in the inspector and for the browser test: `data-band-rows` (rows of the
 * band in view), `data-alert-marks` and `data-anomaly-spans` (in view).
 */
import type uPlot from "uplot";
import { bandRows, type ChartData } from "./series.ts";
import type { Mark, Span } from "./marks.ts";

/** uPlot's class: the page loads it as a script before this one. */
function uPlotClass(): typeof uPlot {
  return (globalThis as unknown as { uPlot: typeof uPlot }).uPlot;
}

/** Colours of the chart; the band's is what the browser test looks for. */
export const COLORS = {
  reading: "#1f2937",
  forecast: "#2563eb",
  bound: "rgba(37, 99, 235, 0.45)",
  band: "rgba(37, 99, 235, 0.18)",
  anomaly: "rgba(220, 38, 38, 0.12)",
  now: "#6b7280",
  threshold: "#9333ea",
  opened: "#dc2626",
  resolved: "#16a34a",
  new_normal: "#d97706",
} as const;

/** What the chart shows besides its data. */
export interface Overlay {
  /** The latest reading's time, ms. */
  now: number | null;
  spans: Span[];
  marks: Mark[];
  threshold: number | null;
  /** The crossing time for the threshold, ms. */
  crossing: number | null;
}

/** How a chart writes its times. */
export interface ChartOptions {
  /** IANA zone of the time axis. Default: the browser's. */
  timeZone?: string;
}

/** A live chart in `el`. */
export class Chart {
  readonly el: HTMLElement;
  readonly #timeZone: string | undefined;
  #plot: uPlot | null = null;
  #data: ChartData | null = null;
  #overlay: Overlay = { now: null, spans: [], marks: [], threshold: null, crossing: null };
  #unit = "";

  constructor(el: HTMLElement, opts: ChartOptions = {}) {
    this.el = el;
    this.#timeZone = opts.timeZone;
    new ResizeObserver(() => this.#resize()).observe(el);
  }

  /** Draws `data` with `overlay`; `unit` names the target in the legend. */
  update(data: ChartData, overlay: Overlay, unit: string): void {
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
  clear(): void {
    this.#plot?.destroy();
    this.#plot = null;
    this.#data = null;
    this.el.removeAttribute("data-band-rows");
    this.el.removeAttribute("data-alert-marks");
    this.el.removeAttribute("data-anomaly-spans");
  }

  #aligned(): uPlot.AlignedData {
    const d = this.#data!;
    return [d.x, d.value, d.point, d.lower, d.upper] as uPlot.AlignedData;
  }

  #size(): { width: number; height: number } {
    const width = Math.max(240, Math.floor(this.el.clientWidth));
    return { width, height: width < 560 ? 240 : 340 };
  }

  #resize(): void {
    if (this.#plot) this.#plot.setSize(this.#size());
  }

  #options(unit: string): uPlot.Options {
    const overlay = () => this.#overlay;
    const zone = this.#timeZone;
    return {
      ...this.#size(),
      ...(zone === undefined
        ? {}
        : { tzDate: (ts: number) => uPlotClass().tzDate(new Date(ts * 1000), zone) }),
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: true },
        y: {
          // the threshold stays in view
          range: (_u, min, max) => {
            const t = overlay().threshold;
            let lo = min, hi = max;
            if (t !== null) {
              lo = Math.min(lo, t);
              hi = Math.max(hi, t);
            }
            if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
            const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.05 || 1;
            return [lo - pad, hi + pad];
          },
        },
      },
      series: [
        {},
        { label: unit, stroke: COLORS.reading, width: 2, points: { show: false } },
        {
          label: "forecast",
          stroke: COLORS.forecast,
          width: 1.5,
          dash: [6, 4],
          points: { show: false },
        },
        { label: "lower bound", stroke: COLORS.bound, width: 1, points: { show: false } },
        { label: "upper bound", stroke: COLORS.bound, width: 1, points: { show: false } },
      ],
      bands: [{ series: [4, 3], fill: COLORS.band }],
      hooks: {
        drawClear: [(u) => this.#drawSpans(u)],
        draw: [(u) => this.#drawMarks(u)],
      },
    };
  }

  /** The anomalies, behind the lines. */
  #drawSpans(u: uPlot): void {
    const { ctx, bbox } = u;
    const { spans, now } = this.#overlay;
    const [x0, x1] = this.#xRange(u);
    let drawn = 0;
    ctx.save();
    ctx.fillStyle = COLORS.anomaly;
    for (const s of spans) {
      const from = s.from / 1000, to = (s.to ?? now ?? s.from) / 1000;
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
  #drawMarks(u: uPlot): void {
    const { ctx, bbox } = u;
    const { now, marks, threshold, crossing } = this.#overlay;
    const dpr = globalThis.devicePixelRatio || 1;
    const [x0, x1] = this.#xRange(u);
    ctx.save();
    ctx.font = `${11 * dpr}px system-ui, sans-serif`;
    // uPlot leaves the alignment of its last axis label behind
    ctx.textAlign = "left";
    ctx.textBaseline = "alphabetic";
    ctx.lineWidth = dpr;
    const vline = (ms: number, color: string, label: string, row: number) => {
      const x = Math.round(u.valToPos(ms / 1000, "x", true));
      ctx.strokeStyle = color;
      ctx.setLineDash([4 * dpr, 3 * dpr]);
      ctx.beginPath();
      ctx.moveTo(x, bbox.top);
      ctx.lineTo(x, bbox.top + bbox.height);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = color;
      ctx.fillText(label, x + 3 * dpr, bbox.top + (11 + 13 * row) * dpr);
    };
    if (now !== null && now / 1000 >= x0 && now / 1000 <= x1) vline(now, COLORS.now, "now", 0);
    if (threshold !== null) {
      const y = Math.round(u.valToPos(threshold, "y", true));
      ctx.strokeStyle = COLORS.threshold;
      ctx.setLineDash([2 * dpr, 3 * dpr]);
      ctx.beginPath();
      ctx.moveTo(bbox.left, y);
      ctx.lineTo(bbox.left + bbox.width, y);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    if (crossing !== null && crossing / 1000 >= x0 && crossing / 1000 <= x1) {
      // a row below "now": the two are often close
      vline(crossing, COLORS.threshold, "crosses", 1);
    }
    let drawn = 0;
    const size = 6 * dpr, base = bbox.top + bbox.height;
    for (const m of marks) {
      if (m.ts / 1000 < x0 || m.ts / 1000 > x1) continue;
      const x = u.valToPos(m.ts / 1000, "x", true);
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

  #xRange(u: uPlot): [number, number] {
    const s = u.scales.x;
    return [s.min ?? -Infinity, s.max ?? Infinity];
  }
}
