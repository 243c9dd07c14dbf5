/**
 * How every error message shows the value it refused: JSON, shortened to 80
 * characters (`current value is "NaN"`, `current value is {"a":1}`).
 */

/** A value as it appears in messages: JSON, shortened to 80 characters. */
export function showValue(value: unknown): string {
  let s: string;
  if (value === undefined) s = "missing";
  else if (typeof value === "number") s = String(value); // NaN, Infinity stay readable
  else if (typeof value === "bigint") s = String(value);
  else {
    try {
      s = JSON.stringify(value) ?? String(value);
    } catch {
      s = String(value);
    }
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
