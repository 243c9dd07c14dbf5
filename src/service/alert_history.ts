/**
 * The stored alerts as the API reads them: a page of them, one by id, and
 * its acknowledgement. The main thread holds the history (the sharded
 * service as well as the in-process one), so both read it through this.
 */
import type { AlertFilter } from "../alerts/alert_source.ts";
import type { StoredAlert } from "../domain/alert.ts";
import type { AlertRecord, Store } from "../store/store.ts";
import { ServiceError } from "./service_error.ts";

/**
 * An alert as the store holds it, as the alert it is: the store keeps the
 * events the service appended (an AlertEvent with `time` and `state`) and
 * gives them back with their id.
 */
export function storedAlert(record: AlertRecord): StoredAlert {
  return record as unknown as StoredAlert;
}

/** The alert history in `store`; `now` stamps an acknowledgement (ms since the epoch). */
export class AlertHistory {
  constructor(readonly store: Store, readonly now: () => number) {}

  /** Stored alerts matching `filter`, in id order. */
  async list(filter: AlertFilter): Promise<StoredAlert[]> {
    return (await this.store.listAlerts(filter)).map(storedAlert);
  }

  /** The stored alert `id` (16 digits); a ServiceError (not_found) when there is none. */
  async get(id: string): Promise<StoredAlert> {
    const record = await this.store.getAlert(id);
    if (!record) {
      throw new ServiceError("not_found", `Cannot get alert: id must exist: "${id}" is unknown`);
    }
    return storedAlert(record);
  }

  /** Acknowledges the stored alert `id` once (a second time keeps the first `acknowledgedAt`). */
  async acknowledge(id: string): Promise<StoredAlert> {
    const record = await this.store.acknowledgeAlert(id, this.now());
    if (!record) {
      throw new ServiceError(
        "not_found",
        `Cannot acknowledge alert: id must exist: "${id}" is unknown`,
      );
    }
    return storedAlert(record);
  }
}
