/**
 * The experts every stream runs, in blend order: expert e is bit e of the
 * origin slots' masks and column e of their forecasts, and the first is the
 * blend's fallback until the others have a record. A factory that returns
 * null (its preset field turns it off) leaves no column. Registering an
 * expert is one line here; see expert.ts for the whole recipe.
 */
import type { ExpertFactory } from "./expert.ts";
import { linearExpert } from "./linear_expert.ts";
import { lstmExpert } from "./lstm_expert.ts";
import { persistenceExpert } from "./persistence_expert.ts";
import { seasonalExpert } from "./seasonal_expert.ts";

export const EXPERTS: readonly ExpertFactory[] = [
  persistenceExpert,
  seasonalExpert,
  linearExpert,
  lstmExpert,
];
