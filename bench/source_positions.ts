/**
 * V8 reports positions in the JavaScript Deno emitted from a TypeScript
 * file, not in the file itself: this maps them back through the inline
 * source map Deno keeps beside the emitted file in its cache
 * (`$DENO_DIR/gen/file/<absolute path>.js`). Not part of the test suite;
 * tested in tests/bench/source_positions_test.ts.
 */

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** One mapping: the emitted column (0-based) and the source line and column (0-based). */
export type Segment = [column: number, sourceLine: number, sourceColumn: number];

/**
 * The segments of each emitted line of a source map's `mappings` (version
 * 3, one source: the source index is read and left aside).
 */
export function decodeMappings(mappings: string): Segment[][] {
  const lines: Segment[][] = [];
  let sourceLine = 0, sourceColumn = 0;
  for (const line of mappings.split(";")) {
    const segments: Segment[] = [];
    let column = 0;
    for (const text of line.split(",")) {
      if (text === "") continue;
      const fields: number[] = [];
      let value = 0, shift = 0;
      for (const ch of text) {
        const digit = BASE64.indexOf(ch);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = shift = 0;
        }
      }
      column += fields[0];
      if (fields.length < 4) continue;
      sourceLine += fields[2];
      sourceColumn += fields[3];
      segments.push([column, sourceLine, sourceColumn]);
    }
    lines.push(segments);
  }
  return lines;
}

/**
 * The source position (1-based line and column) of emitted `line`:`column`
 * (1-based): the last segment at or before the column, else the line's
 * first; null when the line has none.
 */
export function sourcePosition(
  lines: Segment[][],
  line: number,
  column: number,
): [line: number, column: number] | null {
  const segments = lines[line - 1] ?? [];
  let found = segments[0];
  for (const s of segments) if (s[0] <= column - 1) found = s;
  return found ? [found[1] + 1, found[2] + 1] : null;
}

/** Maps `file:///path.ts:line:col` positions through the cache's source maps. */
export class SourcePositions {
  readonly #cache = new Map<string, Segment[][] | null>();

  /** `genDir`: Deno's emitted-files cache, `$DENO_DIR/gen`. */
  constructor(readonly genDir: string) {}

  #mappings(path: string): Segment[][] | null {
    if (!this.#cache.has(path)) {
      let lines: Segment[][] | null = null;
      try {
        const js = Deno.readTextFileSync(`${this.genDir}/file${path}.js`);
        const inline = js.match(/sourceMappingURL=data:application\/json;base64,(\S+)/);
        if (inline) lines = decodeMappings(JSON.parse(atob(inline[1])).mappings);
      } catch {
        lines = null; // not emitted (a .js file) or not cached: left as V8 gave it
      }
      this.#cache.set(path, lines);
    }
    return this.#cache.get(path)!;
  }

  /** `url` (`file:///...ts`) at line:col as the TypeScript position, when it can. */
  map(url: string, line: number, column: number): [line: number, column: number] {
    if (!url.startsWith("file://") || !url.endsWith(".ts")) return [line, column];
    const lines = this.#mappings(url.slice("file://".length));
    return (lines && sourcePosition(lines, line, column)) ?? [line, column];
  }
}
