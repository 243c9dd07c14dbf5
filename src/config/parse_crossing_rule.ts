/**
 * A threshold crossing rule as a flag or variable writes it:
 * `[STREAM/]TARGET>VALUE` (crossed upwards) or `[STREAM/]TARGET<VALUE`
 * (downwards), e.g. `greenhouse/temperature>30` or `temperature<5` (every
 * stream with that target). Stream ids and value names hold no `/`, `<` or
 * `>`, so the text splits one way only.
 */
import { DECIMAL } from "../domain/reading.ts";

/** A crossing rule in the configuration file's form. */
export interface CrossingRuleInput {
  stream: string | null;
  target: string;
  above?: number;
  below?: number;
}

/** The rule `text` says, or `text` itself when it is none (the schema then refuses it, showing it). */
export function parseCrossingRule(text: string): CrossingRuleInput | string {
  const m = /^(?:([A-Za-z0-9_.:-]+)\/)?([A-Za-z0-9_.:-]+)\s*([<>])(.+)$/.exec(text.trim());
  if (!m || !DECIMAL.test(m[4].trim())) return text;
  const value = Number(m[4].trim());
  return {
    stream: m[1] ?? null,
    target: m[2],
    ...(m[3] === ">" ? { above: value } : { below: value }),
  };
}
