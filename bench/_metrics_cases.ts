// Metrics cases: the recording hot path (counter.add, histogram.record with
// three attributes, an attribute set seen before) and collection + OTLP
// protobuf encoding of 1,000 series, ours against @opentelemetry/sdk-metrics
// (+ otlp-transformer's serializer) in the same run.

import { type Attributes, Resource } from "../mod.ts";
import { ManualMetricReader, MeterProvider } from "../pipeline/metrics/mod.ts";
import { writeMetricsRequest } from "../exporters/_otlp_metrics_proto.ts";
import { ProtoBuffer } from "../exporters/_proto_writer.ts";
import {
  MeterProvider as PeerMeterProvider,
  MetricReader as PeerMetricReader,
} from "@opentelemetry/sdk-metrics";
import { ProtobufMetricsSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes as peerResourceFromAttributes } from "@opentelemetry/resources";
import type { BenchCase } from "./_cases.ts";
import { consume } from "./_fixtures.ts";

const noEnv = (): undefined => undefined;
const RESOURCE = { "service.name": "bench", "service.version": "1.0.0" };
export const METRIC_ATTRIBUTES: Attributes = {
  "http.request.method": "GET",
  "http.route": "/users/:id",
  "http.response.status_code": 200,
};
const RECORD_OPS = 1000;

/** A pull reader for sdk-metrics (it ships none). */
class PeerPullReader extends PeerMetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function mk(
  group: string,
  variant: string,
  ops: number,
  unit: string,
  fn: () => void | Promise<void>,
  baseline = false,
): BenchCase {
  return {
    name: `${group}/${variant}`,
    group,
    variant,
    baseline,
    ops,
    unit,
    fn,
  };
}

function seedProvider(): {
  provider: MeterProvider;
  reader: ManualMetricReader;
} {
  const reader = new ManualMetricReader();
  const provider = new MeterProvider({
    env: noEnv,
    resource: new Resource(RESOURCE),
    readers: [reader],
  });
  return { provider, reader };
}

function peerProvider(): {
  provider: PeerMeterProvider;
  reader: PeerPullReader;
} {
  const reader = new PeerPullReader();
  const provider = new PeerMeterProvider({
    resource: peerResourceFromAttributes(RESOURCE),
    readers: [reader],
  });
  return { provider, reader };
}

/**
 * Cases: counter.add and histogram.record with three attributes (a set seen
 * before), and counter.add of new sets past the cardinality limit.
 */
export function metricsRecordCases(): Promise<BenchCase[]> {
  const seed = seedProvider().provider.getMeter("bench", "1.0.0");
  const peer = peerProvider().provider.getMeter("bench", "1.0.0");
  const counter = seed.createCounter("http.server.requests");
  const histogram = seed.createHistogram("http.server.request.duration", {
    unit: "s",
  });
  const peerCounter = peer.createCounter("http.server.requests");
  const peerHistogram = peer.createHistogram("http.server.request.duration", {
    unit: "s",
  });
  const attrs = METRIC_ATTRIBUTES;
  const peerAttrs = METRIC_ATTRIBUTES as Record<string, string | number>;
  // Warm: the series exist before timing (a set seen before).
  counter.add(1, attrs);
  histogram.record(0.1, attrs);
  peerCounter.add(1, peerAttrs);
  peerHistogram.record(0.1, peerAttrs);
  // Past the cardinality limit (2000 on both sides): sets never seen before
  // go to the overflow series.
  const overflowCounter = seed.createCounter("jobs.overflow");
  const peerOverflowCounter = peer.createCounter("jobs.overflow");
  for (let i = 0; i < 2000; i++) {
    const a = { "job.id": i, "job.queue": "q" + (i % 10), ok: true };
    overflowCounter.add(1, a);
    peerOverflowCounter.add(1, a);
  }
  const overflowSets = Array.from({ length: 1024 }, (_, i) => ({
    "job.id": 100_000 + i,
    "job.queue": "q" + (i % 10),
    ok: true,
  }));
  const n = RECORD_OPS;
  const addGroup = "metrics/counter-add-3-attributes";
  const overflowGroup = "metrics/counter-add-past-cardinality-limit";
  const recordGroup = "metrics/histogram-record-3-attributes";
  return Promise.resolve([
    mk(addGroup, "seed", n, "add", () => {
      for (let i = 0; i < n; i++) counter.add(1, attrs);
    }),
    mk(addGroup, "seed-fresh-literal", n, "add", () => {
      for (let i = 0; i < n; i++) {
        counter.add(1, {
          "http.request.method": "GET",
          "http.route": "/users/:id",
          "http.response.status_code": 200,
        });
      }
    }),
    mk(addGroup, "peer-sdk-metrics", n, "add", () => {
      for (let i = 0; i < n; i++) peerCounter.add(1, peerAttrs);
    }, true),
    mk(overflowGroup, "seed", n, "add", () => {
      for (let i = 0; i < n; i++) {
        overflowCounter.add(1, overflowSets[i & 1023]);
      }
    }),
    mk(overflowGroup, "peer-sdk-metrics", n, "add", () => {
      for (let i = 0; i < n; i++) {
        peerOverflowCounter.add(1, overflowSets[i & 1023]);
      }
    }, true),
    mk(recordGroup, "seed", n, "record", () => {
      for (let i = 0; i < n; i++) histogram.record((i & 255) * 0.01, attrs);
    }),
    mk(recordGroup, "peer-sdk-metrics", n, "record", () => {
      for (let i = 0; i < n; i++) {
        peerHistogram.record((i & 255) * 0.01, peerAttrs);
      }
    }, true),
  ]);
}

/** Cases: one collection of 1,000 counter series, then its OTLP protobuf encoding. */
export function metricsCollectCases(): Promise<BenchCase[]> {
  const seed = seedProvider();
  const peer = peerProvider();
  const counter = seed.provider.getMeter("bench").createCounter("jobs");
  const peerCounter = peer.provider.getMeter("bench").createCounter("jobs");
  for (let i = 0; i < 1000; i++) {
    const a = { "job.id": i, "job.queue": "q" + (i % 10), ok: true };
    counter.add(i, a);
    peerCounter.add(i, a);
  }
  const out = new ProtoBuffer();
  const group = "metrics/collect-encode-1000-series";
  return Promise.resolve([
    mk(group, "seed", 1, "collection of 1000 series", async () => {
      const { resourceMetrics } = await seed.reader.collect();
      consume(writeMetricsRequest(resourceMetrics, out, 0));
    }),
    mk(
      group,
      "peer-sdk-metrics+otlp-transformer",
      1,
      "collection of 1000 series",
      async () => {
        const { resourceMetrics } = await peer.reader.collect();
        consume(
          ProtobufMetricsSerializer.serializeRequest(resourceMetrics)?.length ??
            0,
        );
      },
      true,
    ),
  ]);
}

/** Every metrics case. */
export async function metricsCases(): Promise<BenchCase[]> {
  return [...await metricsRecordCases(), ...await metricsCollectCases()];
}
