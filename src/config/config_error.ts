/**
 * An invalid configuration: every problem found at once, each with its
 * field, where the value came from and the value.
 *
 *   Cannot start forecastd: invalid configuration:
 *     port (flag --port): must be an integer from 0 to 65535: current value is "http"
 */
import { showValue } from "../domain/show_value.ts";

/** Where an option's value came from. */
export type ConfigSource =
  | { kind: "default" }
  | { kind: "file"; path: string }
  | { kind: "env"; name: string }
  | { kind: "flag"; name: string };

/** One thing wrong with the configuration. */
export interface ConfigProblem {
  /** The field (`port`, `webhooks[0].url`) or the unknown name. */
  field: string;
  source: ConfigSource | { kind: "args" };
  /** The constraint: `must be an integer from 0 to 65535`. */
  message: string;
  /** The value as given (secrets masked); undefined when there is none. */
  value: unknown;
}

/** An invalid configuration: every problem found, one per line of the message. */
export class ConfigError extends Error {
  override name = "ConfigError";
  readonly problems: readonly ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super(
      "Cannot start forecastd: invalid configuration:\n" +
        problems.map((p) => `  ${formatProblem(p)}`).join("\n"),
    );
    this.problems = problems;
  }
}

/** `field (source): constraint: current value is value`. */
export function formatProblem(p: ConfigProblem): string {
  const src = p.source.kind === "default"
    ? "default"
    : p.source.kind === "file"
    ? `file ${p.source.path}`
    : p.source.kind === "env"
    ? p.source.name === p.field ? "env" : `env ${p.source.name}`
    : p.source.kind === "flag"
    ? `flag ${p.source.name}`
    : "command line";
  const value = p.value === undefined ? "" : `: current value is ${showValue(p.value)}`;
  return `${p.field} (${src}): ${p.message}${value}`;
}
