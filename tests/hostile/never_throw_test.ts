// The never-throw rule, table-driven: every public method of the span,
// tracer, logger and provider classes and of every processor (the list is
// read from the classes' prototypes, so a method added later is covered
// without editing this file) is called with every hostile value in every
// argument position, and in every field of its object arguments. Nothing may
// throw into the caller, and no returned Promise may reject.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  BatchLogRecordProcessor,
  BatchSpanProcessor,
  InMemoryExporter,
  LogEmitContext,
  Logger,
  LoggerProvider,
  type LogRecordData,
  type ReadableSpan,
  Resource,
  SimpleLogRecordProcessor,
  SimpleSpanProcessor,
  Span,
  toLogRecordData,
  Tracer,
  TracerProvider,
} from "../../mod.ts";
import {
  UserEventsProcessor,
  UserEventsSpanProcessor,
} from "../../processors/user_events/mod.ts";
import { EtwProcessor, EtwSpanProcessor } from "../../processors/etw/mod.ts";
import {
  OtlpHttpLogExporter,
  OtlpHttpSpanExporter,
} from "../../exporters/otlp/mod.ts";
import { FakeLibc } from "../user_events/_fake_libc.ts";
import { FakeAdvapi32 } from "../etw/_fake_advapi32.ts";
import { hostileValues } from "./_hostile.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID = "00f067aa0ba902b7";
const CTX = { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 };
const quiet = () => {};

/** Public methods of a class: own prototype functions, getters included. */
function publicMethods(cls: { prototype: object }): (string | symbol)[] {
  const proto = cls.prototype;
  return [
    ...Object.getOwnPropertyNames(proto),
    ...Object.getOwnPropertySymbols(proto),
  ].filter((name) => {
    if (name === "constructor") return false;
    if (typeof name === "string" && name.startsWith("_")) return false;
    const d = Object.getOwnPropertyDescriptor(proto, name)!;
    return typeof d.value === "function" || typeof d.get === "function";
  });
}

/** Good arguments per method name; a method not listed gets none. */
function goodArgs(name: string | symbol): unknown[] {
  const record = { severityNumber: 9, body: "ok", attributes: { a: 1 } };
  const table: Record<string, unknown[]> = {
    setAttribute: ["k", "v"],
    setAttributes: [{ a: 1, b: "x" }],
    addEvent: ["e", { a: 1 }, 1],
    addLink: [{ context: CTX, attributes: { a: 1 } }],
    setStatus: [{ code: 2, message: "m" }],
    updateName: ["n"],
    recordException: [new Error("e"), 1],
    end: [2],
    startSpan: ["s", {
      kind: 1,
      attributes: { a: 1 },
      links: [{ context: CTX }],
      startTime: 1,
      parent: CTX,
    }],
    startActiveSpan: ["s", { kind: 1 }, (span: Span) => span.end()],
    getTracer: ["t", "1.0.0", { schemaUrl: "u", attributes: { a: 1 } }],
    getLogger: ["l", "1.0.0", { schemaUrl: "u", attributes: { a: 1 } }],
    emit: [record],
    enabled: [9, "event"],
    onEmit: [record, new LogEmitContext(new Resource({}), { name: "s" })],
    onStart: [undefined, CTX],
    onEnd: [undefined], // replaced by a real ended span below
  };
  return typeof name === "string" ? table[name] ?? [] : [];
}

/** Every way to make one argument list hostile: each position, each field of an object argument, each item of an array field. */
function* hostileArgLists(
  good: unknown[],
  arity: number,
): Generator<[string, unknown[]]> {
  const n = Math.max(good.length, arity, 1);
  for (const [label, value] of hostileValues()) {
    for (let i = 0; i < n; i++) {
      const args = good.slice();
      args[i] = value;
      yield [`arg ${i} = ${label}`, args];
      const arg = good[i];
      if (arg === null || typeof arg !== "object" || arg instanceof Error) {
        continue;
      }
      for (const key of Object.keys(arg)) {
        const field = (arg as Record<string, unknown>)[key];
        const args2 = good.slice();
        args2[i] = { ...arg, [key]: value };
        yield [`arg ${i}.${key} = ${label}`, args2];
        if (Array.isArray(field)) {
          const args3 = good.slice();
          args3[i] = { ...arg, [key]: [value] };
          yield [`arg ${i}.${key}[0] = ${label}`, args3];
        }
      }
    }
  }
  yield ["no arguments", []];
}

interface Subject {
  readonly cls: { prototype: object; name: string };
  /** A fresh instance per call, so one call's state change does not hide another's throw. */
  make(): object;
  /** Argument replacements that need a live object. */
  args?(name: string | symbol): unknown[] | undefined;
}

function endedSpan(): Span {
  const provider = new TracerProvider({
    resource: new Resource({}),
    diagnostics: quiet,
  });
  const span = provider.getTracer("t").startSpan("s");
  span.end();
  return span;
}

function tracerProvider(): TracerProvider {
  return new TracerProvider({
    resource: new Resource({}),
    diagnostics: quiet,
    processors: [new SimpleSpanProcessor(new InMemoryExporter())],
  });
}

function loggerProvider(): LoggerProvider {
  return new LoggerProvider({
    resource: new Resource({}),
    diagnostics: quiet,
    processors: [new SimpleLogRecordProcessor(new InMemoryExporter())],
  });
}

function userEvents(): UserEventsProcessor {
  const fake = new FakeLibc();
  const p = new UserEventsProcessor(fake, {
    providerName: "hostile",
    userEventsDataPath: "/fake",
    diagnostics: quiet,
  });
  for (const r of fake.registrations) fake.enable(r.name);
  return p;
}

function userEventsSpans(): UserEventsSpanProcessor {
  const fake = new FakeLibc();
  const p = new UserEventsSpanProcessor(fake, {
    providerName: "hostile",
    userEventsDataPath: "/fake",
    diagnostics: quiet,
  });
  for (const r of fake.registrations) fake.enable(r.name);
  return p;
}

function etwAdvapi(): FakeAdvapi32 {
  const fake = new FakeAdvapi32();
  fake.enabledAnswer = 1;
  return fake;
}

const spanArgs = (name: string | symbol) =>
  name === "onEnd" ? [endedSpan()] : undefined;

// Exporters send to a port nobody listens on (refused at once), one attempt.
const exporterOptions = {
  env: () => undefined,
  endpoint: "http://127.0.0.1:9/v1/x",
  retry: { maxAttempts: 1 },
  diagnostics: quiet,
};
const signal = new AbortController().signal;
const logData = (): LogRecordData =>
  toLogRecordData(
    { body: "ok" },
    new LogEmitContext(new Resource({}), { name: "s" }),
  );

const sharedTracers = tracerProvider();
const sharedLoggers = loggerProvider();

const SUBJECTS: Subject[] = [
  {
    cls: OtlpHttpLogExporter,
    make: () => new OtlpHttpLogExporter(exporterOptions),
    args: (name) => name === "export" ? [[logData()], signal] : undefined,
  },
  {
    cls: OtlpHttpSpanExporter,
    make: () => new OtlpHttpSpanExporter(exporterOptions),
    args: (name) => name === "export" ? [[endedSpan()], signal] : undefined,
  },
  // Fresh spans (and tracers) of one provider: a provider per call costs
  // more than the call.
  { cls: Span, make: () => sharedTracers.getTracer("t").startSpan("s") },
  { cls: Tracer, make: () => sharedTracers.getTracer("t") },
  { cls: TracerProvider, make: tracerProvider },
  { cls: Logger, make: () => sharedLoggers.getLogger("l") },
  { cls: LoggerProvider, make: loggerProvider },
  { cls: UserEventsProcessor, make: userEvents },
  { cls: UserEventsSpanProcessor, make: userEventsSpans, args: spanArgs },
  {
    cls: EtwProcessor,
    make: () =>
      new EtwProcessor(etwAdvapi(), {
        providerName: "Hostile",
        diagnostics: quiet,
      }),
  },
  {
    cls: EtwSpanProcessor,
    make: () =>
      new EtwSpanProcessor(etwAdvapi(), {
        providerName: "Hostile",
        diagnostics: quiet,
      }),
    args: spanArgs,
  },
  {
    cls: BatchLogRecordProcessor,
    make: () =>
      new BatchLogRecordProcessor(new InMemoryExporter<LogRecordData>(), {
        diagnostics: quiet,
      }),
  },
  {
    cls: BatchSpanProcessor,
    make: () =>
      new BatchSpanProcessor(new InMemoryExporter<ReadableSpan>(), {
        diagnostics: quiet,
      }),
    args: spanArgs,
  },
  {
    cls: SimpleLogRecordProcessor,
    make: () =>
      new SimpleLogRecordProcessor(new InMemoryExporter<LogRecordData>(), {
        diagnostics: quiet,
      }),
  },
  {
    cls: SimpleSpanProcessor,
    make: () =>
      new SimpleSpanProcessor(new InMemoryExporter<ReadableSpan>(), {
        diagnostics: quiet,
      }),
    args: spanArgs,
  },
];

/** Every method of the class and its base classes up to Object. */
function methodsOf(cls: { prototype: object }): (string | symbol)[] {
  const names = new Set<string | symbol>();
  let proto: { prototype: object } | null = cls;
  while (proto !== null && proto.prototype !== Object.prototype) {
    for (const name of publicMethods(proto)) names.add(name);
    const parent = Object.getPrototypeOf(proto.prototype);
    proto = parent === null || parent === Object.prototype
      ? null
      : parent.constructor;
  }
  return [...names];
}

for (const subject of SUBJECTS) {
  describe(`never throws: ${subject.cls.name}, every public method with hostile arguments`, () => {
    const methods = methodsOf(subject.cls);
    it("has methods to call", () => assert.ok(methods.length > 0));
    // One test per method: a slow machine never times out a whole class.
    for (const name of methods) {
      it(String(name), async () => {
        const failures: string[] = [];
        const instance = subject.make();
        const d = findDescriptor(instance, name);
        if (typeof d.get === "function") {
          try {
            d.get.call(instance);
          } catch (error) {
            failures.push(`get ${String(name)}: ${error}`);
          }
        } else {
          const method = d.value as (...args: unknown[]) => unknown;
          const good = subject.args?.(name) ?? goodArgs(name);
          for (const [label, args] of hostileArgLists(good, method.length)) {
            const target = subject.make();
            try {
              const result = method.apply(target, args);
              if (result instanceof Promise) await result;
            } catch (error) {
              failures.push(`${String(name)}(${label}): ${error}`);
            }
          }
        }
        assert.deepEqual(
          failures.slice(0, 20),
          [],
          `${failures.length} calls threw`,
        );
      });
    }
  });
}

function findDescriptor(
  instance: object,
  name: string | symbol,
): PropertyDescriptor {
  let proto = Object.getPrototypeOf(instance);
  while (proto !== null) {
    const d = Object.getOwnPropertyDescriptor(proto, name);
    if (d !== undefined) return d;
    proto = Object.getPrototypeOf(proto);
  }
  throw new Error(`no ${String(name)}`);
}
