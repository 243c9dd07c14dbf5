/**
 * The service as each route file sees it. Every route file declares the
 * narrow port it uses; this adapts the daemon's Service to them, and is the
 * one place in the API that reads past the service's methods (its records,
 * its engine's streams and counters).
 *
 * Each port calls the service when it is used (not a method bound at start),
 * so a service whose method is replaced, as a test does, is seen.
 */
import type { Application } from "../service/application.ts";
import type { AlertsPort } from "./alerts.ts";
import type { ReadingSink } from "./ingest.ts";
import type { MetricsSource } from "./metrics.ts";
import type { RejectsPort } from "./rejects.ts";
import type { StreamsPort } from "./streams.ts";

/** The ports of the route files, over one Service. */
export interface ServicePorts {
  streams: StreamsPort;
  alerts: AlertsPort;
  sink: ReadingSink;
  metrics: MetricsSource;
  rejects: RejectsPort;
}

/** The route files' ports over `service`. */
export function servicePorts(service: Application): ServicePorts {
  return {
    streams: {
      ids: () => [...service.records.keys()].sort(),
      summary: (id) => service.summary(id),
      record: (id) => service.records.get(id),
      put: (id, spec) => service.put(id, spec),
      delete: (id) => service.delete(id),
      forecast: (id, horizon) => service.forecast(id, horizon),
      crossing: (id, target, x, direction) => service.crossing(id, target, x, direction),
      recent: (id, query) => service.recent(id, query),
    },
    // Service implements the alert-source port and acknowledgement as they are
    alerts: service,
    sink: {
      ingest: (readings, source) => service.ingest(readings, source),
      exists: (stream) => service.records.has(stream),
      reject: (reason, refusal) => service.reject(reason, refusal),
    },
    metrics: {
      get counters() {
        return service.counters;
      },
      rejects: () => service.rejects(),
      get learning() {
        return service.learning;
      },
      get streams() {
        return service.records.size;
      },
      horizonStats: () => service.horizonStats(),
      horizonColumns: () => service.horizonColumns?.(),
      get subscribers() {
        return service.subscribers;
      },
      get queued() {
        return service.queued;
      },
    },
    rejects: { lastRejects: () => service.lastRejects() },
  };
}
