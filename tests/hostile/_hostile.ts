import type { AnyValueMap } from "../../mod.ts";

// Hostile values for the never-throw, amplification and batch-integrity
// tests: each one is something a server really can hand a telemetry call.

const thrower = (): never => {
  throw new Error("hostile");
};

/** An object every one of whose Proxy traps throws. */
export function trappedProxy(): object {
  return new Proxy({}, {
    get: thrower,
    set: thrower,
    has: thrower,
    ownKeys: thrower,
    getOwnPropertyDescriptor: thrower,
    getPrototypeOf: thrower,
    defineProperty: thrower,
    deleteProperty: thrower,
    apply: thrower,
    construct: thrower,
  });
}

/** A revoked Proxy: every operation on it throws a TypeError. */
export function revokedProxy(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

/** `let v = {}; v = { a: v, b: v }` `levels` times: 2^levels paths, levels + 1 objects. */
export function sharedLevels(levels: number): AnyValueMap {
  let v: AnyValueMap = {};
  for (let i = 0; i < levels; i++) v = { a: v, b: v };
  return v;
}

/** Maps nested `depth` deep, with a string at the bottom. */
export function nested(depth: number): unknown {
  let v: unknown = "bottom";
  for (let i = 0; i < depth; i++) v = { d: v };
  return v;
}

/** Named hostile values, every kind the guide lists. */
export function hostileValues(): [string, unknown][] {
  const cyclic: Record<string, unknown> = { name: "c" };
  cyclic.self = cyclic;
  const badStack = new Error("bad stack");
  Object.defineProperty(badStack, "stack", { get: thrower });
  const allBad = new Error("x");
  Object.defineProperty(allBad, "stack", { get: thrower });
  Object.defineProperty(allBad, "message", { get: thrower });
  return [
    ["null", null],
    ["undefined", undefined],
    ["NaN", NaN],
    ["-Infinity", -Infinity],
    ["1.5", 1.5],
    ["2^70", 2 ** 70],
    ["-1", -1],
    ["string '17'", "17"],
    ["empty string", ""],
    ["lone surrogate", "a\ud800b"],
    ["uppercase hex", "4BF92F3577B34DA6A3CE929D0E0E4736"],
    ["symbol", Symbol("s")],
    ["bigint 2^80", 2n ** 80n],
    ["function", () => 1],
    ["throwing getter", {
      get x() {
        return thrower();
      },
    }],
    ["throwing toString", { toString: thrower, valueOf: thrower }],
    ["Symbol.toPrimitive throws", { [Symbol.toPrimitive]: thrower }],
    ["trapped Proxy", trappedProxy()],
    ["revoked Proxy", revokedProxy()],
    ["cycle", cyclic],
    ["24 shared levels", sharedLevels(24)],
    ["nested 200 deep", nested(200)],
    ["Error with throwing stack", badStack],
    ["Error with throwing stack and message", allBad],
    ["Map with throwing key", new Map([[{ toString: thrower }, 1]])],
    ["array of 1e5 nulls", new Array(100_000).fill(null)],
    ["__proto__ own key", JSON.parse('{"__proto__": {"polluted": 1}}')],
    ["Date(8.64e15)", new Date(8.64e15)],
    ["invalid Date", new Date(NaN)],
    ["frozen array", Object.freeze([1, 2])],
  ];
}
