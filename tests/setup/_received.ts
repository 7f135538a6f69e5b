// What a loopback collector received from a child, decoded with protobufjs.
import type { FakeCollector } from "../otlp/_server.ts";
import {
  type Decoded,
  decodeLogs,
  decodeTrace,
  hex,
  plainAttributes,
  plainValue,
} from "../otlp/_decoder.ts";

export interface ReceivedSpan {
  readonly name: string;
  readonly kind: number;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly attributes: Record<string, unknown>;
  readonly resource: Record<string, unknown>;
}

export interface ReceivedLog {
  readonly body: unknown;
  readonly traceId: string | undefined;
  readonly resource: Record<string, unknown>;
}

export function receivedSpans(collector: FakeCollector): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const r of collector.requests) {
    if (r.path !== "/v1/traces") continue;
    const decoded: Decoded = decodeTrace(r.body);
    for (const rs of decoded.resourceSpans ?? []) {
      const resource = plainAttributes(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          out.push({
            name: s.name,
            kind: s.kind,
            traceId: hex(s.traceId)!,
            spanId: hex(s.spanId)!,
            parentSpanId: s.parentSpanId?.length
              ? hex(s.parentSpanId)
              : undefined,
            attributes: plainAttributes(s.attributes),
            resource,
          });
        }
      }
    }
  }
  return out;
}

export function receivedLogs(collector: FakeCollector): ReceivedLog[] {
  const out: ReceivedLog[] = [];
  for (const r of collector.requests) {
    if (r.path !== "/v1/logs") continue;
    const json = String(r.headers["content-type"]).includes("json");
    const decoded: Decoded = json
      ? jsonToProtoShape(JSON.parse(new TextDecoder().decode(r.body)))
      : decodeLogs(r.body);
    for (const rl of decoded.resourceLogs ?? []) {
      const resource = plainAttributes(rl.resource?.attributes);
      for (const sl of rl.scopeLogs ?? []) {
        for (const l of sl.logRecords ?? []) {
          out.push({
            body: plainValue(l.body),
            traceId: l.traceId?.length ? hex(l.traceId) : undefined,
            resource,
          });
        }
      }
    }
  }
  return out;
}

/** OTLP/JSON logs in the shape protobufjs gives (ids as byte arrays). */
function jsonToProtoShape(body: Decoded): Decoded {
  const bytes = (h: string | undefined) =>
    h ? (h.match(/../g) ?? []).map((b) => parseInt(b, 16)) : undefined;
  for (const rl of body.resourceLogs ?? []) {
    for (const sl of rl.scopeLogs ?? []) {
      for (const l of sl.logRecords ?? []) {
        l.traceId = bytes(l.traceId);
        l.spanId = bytes(l.spanId);
      }
    }
  }
  return body;
}
