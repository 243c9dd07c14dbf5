/** deploy/prometheus/forecastd-rules.yml as the tests read it. */
import { ROOT } from "../e2e/_daemon.ts";

/** The rules file's path in the repository. */
export const RULES = "deploy/prometheus/forecastd-rules.yml";

/** Each rule's name and expression (every `expr:` of the file is one line). */
export function ruleExpressions(): { alert: string; expr: string }[] {
  const text = Deno.readTextFileSync(`${ROOT}${RULES}`);
  return [...text.matchAll(/- alert: (\w+)\n\s+expr: (.+)\n/g)].map((m) => ({
    alert: m[1],
    expr: m[2],
  }));
}
