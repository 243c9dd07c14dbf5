/** Formatting of values for error messages ("... current value is <value>"). */

/** Quotes a value for an error message, cut to 140 characters. */
export function describe(value: unknown): string {
  let s: string;
  if (typeof value === "string") s = JSON.stringify(value);
  else if (typeof value === "bigint") s = `${value}n`;
  else if (typeof value === "number") s = String(value);
  else if (value === undefined || typeof value === "function" || typeof value === "symbol") {
    s = String(value);
  } else {
    try {
      s = JSON.stringify(value) ?? String(value);
    } catch {
      s = Object.prototype.toString.call(value);
    }
  }
  return s.length > 140 ? `${s.slice(0, 139)}…` : s;
}
