/**
 * Content negotiation by `Accept` (RFC 9110 section 12.5.1), for the routes
 * that answer in more than one form: the offered media type the client
 * ranks highest, the first offered on a tie or without `Accept`.
 */

/** The weight `accept` gives `type` (`type/subtype`): its most specific range's q, 0 if none. */
function weight(accept: string, type: string): number {
  const [main] = type.split("/");
  let best = -1, q = 0;
  for (const part of accept.split(",")) {
    const [range, ...params] = part.trim().toLowerCase().split(";").map((p) => p.trim());
    const specificity = range === type ? 2 : range === `${main}/*` ? 1 : range === "*/*" ? 0 : -1;
    if (specificity <= best) continue;
    best = specificity;
    const qp = params.find((p) => p.startsWith("q="));
    const v = qp === undefined ? 1 : Number(qp.slice(2));
    q = Number.isFinite(v) ? Math.min(Math.max(v, 0), 1) : 0;
  }
  return q;
}

/** Which of `offered` (most preferred by the server first) to answer `accept` with. */
export function preferredType(accept: string | undefined, offered: readonly string[]): string {
  if (accept === undefined || accept.trim() === "") return offered[0];
  let chosen = offered[0], best = 0;
  for (const type of offered) {
    const w = weight(accept, type);
    if (w > best) [chosen, best] = [type, w];
  }
  return chosen;
}
