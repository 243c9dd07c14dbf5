/**
 * The aligned text tables of the command-line clients (`forecastd streams`,
 * `forecast`, `alerts`): a header line, then one line per row, columns two
 * spaces apart, and no line wider than the width asked for (80 columns by
 * default, what an SSH session shows at least).
 *
 * When the rows are too wide, the columns marked `shrink` give up their width
 * (the last of them first), each down to its `min`; a cell cut short ends
 * with "…". Widths are counted in UTF-16 code units: stream ids, value names
 * and messages are ASCII or European text.
 */

/** One column of a table. */
export interface Column {
  title: string;
  /** Default "left"; numbers read best aligned "right". */
  align?: "left" | "right";
  /** The column may be cut to make the table fit. Default false. */
  shrink?: boolean;
  /** Narrowest a shrinking column gets. Default: its title's length, at least 4. */
  min?: number;
  /**
   * A fixed width, whatever the cells (longer ones are cut), so that lines
   * printed apart (a live feed) line up. Default: the widest cell's.
   */
  width?: number;
}

/** Marks a cell cut short. */
export const CUT = "…";

/** Columns apart. */
const GAP = "  ";

/** `text` cut to `width`, ending with {@link CUT} when it was cut. */
export function cutText(text: string, width: number): string {
  if (text.length <= width) return text;
  if (width <= 0) return "";
  return text.slice(0, width - 1) + CUT;
}

/**
 * The lines of a table of `rows` (each as many cells as `columns`) at most
 * `width` characters wide (default 80), trailing spaces dropped.
 */
export function formatTable(
  columns: readonly Column[],
  rows: readonly string[][],
  width = 80,
): string[] {
  for (const [i, r] of rows.entries()) {
    if (r.length !== columns.length) {
      throw new RangeError(
        `Cannot format a table: every row must have ${columns.length} cells like the header: ` +
          `row ${i} has ${r.length}`,
      );
    }
  }
  const widths = columns.map((c, k) =>
    c.width ?? Math.max(c.title.length, ...rows.map((r) => r[k].length))
  );
  let total = widths.reduce((s, w) => s + w, 0) + GAP.length * (columns.length - 1);
  for (let k = columns.length - 1; k >= 0 && total > width; k--) {
    const c = columns[k];
    if (!c.shrink) continue;
    const min = c.min ?? Math.max(4, c.title.length);
    const give = Math.min(widths[k] - min, total - width);
    if (give > 0) {
      widths[k] -= give;
      total -= give;
    }
  }
  const line = (cells: readonly string[]) =>
    cells.map((cell, k) => {
      const text = cutText(cell, widths[k]);
      return columns[k].align === "right" ? text.padStart(widths[k]) : text.padEnd(widths[k]);
    }).join(GAP).trimEnd();
  return [line(columns.map((c) => c.title)), ...rows.map(line)];
}
