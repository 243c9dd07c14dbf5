/** The one error the service throws for a request the caller can fix, and its kinds. */
/**
 * What kind of request a ServiceError refuses: `invalid` (the request itself
 * is wrong), `not_found` (it names a stream or alert that does not exist),
 * `conflict` (it cannot be done in the present state: a limit reached, no
 * reading yet), `unavailable` (not now: the queue is full, or forecastd is
 * shutting down; the caller may retry later). The API maps each kind to its
 * HTTP status.
 */
export type ServiceErrorKind = "invalid" | "not_found" | "conflict" | "unavailable";

/**
 * A request the caller can fix, what kind of failure it is and, for a
 * reading it refuses, the reason the reading is counted under (default
 * `too_many_streams` for a conflict, `bad_stream` otherwise).
 */
export class ServiceError extends Error {
  readonly kind: ServiceErrorKind;
  readonly reason: string | undefined;
  constructor(kind: ServiceErrorKind, message: string, reason?: string) {
    super(message);
    this.name = "ServiceError";
    this.kind = kind;
    this.reason = reason;
  }
}
