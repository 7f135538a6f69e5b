// The export loop the OS metric exporters share (user_events and ETW): each
// data point of a collection as its own ExportMetricsServiceRequest, encoded
// into the exporter's buffer, checked against its size limit and handed to
// the back-end's write, with the outcome counted. Only the write differs.

import type { ExportResult } from "../pipeline/exporter.ts";
import type { ResourceMetrics } from "../pipeline/metrics/mod.ts";
import { writeMetricPointRequest } from "../exporters/_otlp_metrics_proto.ts";
import type { ProtoBuffer } from "../exporters/_proto_writer.ts";

/** What a back-end's write of one event did. */
export const POINT_WRITTEN = 0;
/** No listener any more: counted as not enabled. */
export const POINT_NOT_ENABLED = 1;
/** The write failed: counted as a write error. */
export const POINT_WRITE_ERROR = 2;

/** The counters an OS metric exporter keeps (mutable, the exporter's own). */
export interface MetricPointCounts {
  dataPoints: number;
  written: number;
  notEnabled: number;
  tooLarge: number;
  writeError: number;
}

/** Data points in a collection; throws when the collection cannot be read. */
function countPoints(metrics: ResourceMetrics): number {
  let points = 0;
  for (const scope of metrics.scopeMetrics) {
    for (const metric of scope.metrics) points += metric.dataPoints.length;
  }
  return points;
}

/**
 * Writes each data point of `metrics` with `write(bytes, length)` when
 * `enabled()` (asked once) says a listener wants them, counting every
 * outcome in `counts`; `write` may still answer POINT_NOT_ENABLED (the
 * listener left during the export).
 * Never throws: a collection that cannot be read (a throwing getter, a
 * hand-made object) fails the export, with nothing written.
 *
 * @returns Success, or a non-retryable failure naming `backend` when some
 * points were not written.
 */
export function exportMetricPoints(
  metrics: ResourceMetrics,
  proto: ProtoBuffer,
  maxEventBytes: number,
  counts: MetricPointCounts,
  enabled: () => boolean,
  write: (bytes: Uint8Array, length: number) => number,
  backend: string,
): ExportResult {
  let points: number;
  try {
    points = countPoints(metrics);
  } catch (err) {
    return {
      code: "failure",
      retryable: false,
      error: new Error(
        `Cannot read the metric collection handed to the ${backend} exporter: ${
          err instanceof Error ? err.message : "not a collection"
        }`,
      ),
    };
  }
  counts.dataPoints += points;
  if (!enabled()) {
    counts.notEnabled += points;
    return { code: "success" };
  }
  let failed = 0;
  let done = 0;
  try {
    for (const scope of metrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        for (let i = 0; i < metric.dataPoints.length; i++) {
          done++;
          let end: number;
          try {
            end = writeMetricPointRequest(
              metrics.resource,
              scope.scope,
              metric,
              i,
              proto,
              0,
            );
          } catch {
            counts.writeError++;
            failed++;
            continue;
          }
          if (end > maxEventBytes) {
            counts.tooLarge++;
            failed++;
            continue;
          }
          const outcome = write(proto.bytes, end);
          if (outcome === POINT_WRITTEN) counts.written++;
          else if (outcome === POINT_NOT_ENABLED) counts.notEnabled++;
          else {
            counts.writeError++;
            failed++;
          }
        }
      }
    }
  } catch {
    // The collection changed under us (a getter that throws the second
    // time): the points not reached are write errors.
    const left = Math.max(0, points - done);
    counts.writeError += left;
    failed += left;
  }
  return failed === 0 ? { code: "success" } : {
    code: "failure",
    retryable: false,
    error: new Error(
      `${failed} of ${points} metric data points were not written to ${backend} (see stats)`,
    ),
  };
}
