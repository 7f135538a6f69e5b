import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ADVAPI32_DENO_SYMBOLS } from "../../ffi/advapi32_deno.ts";
import {
  ADVAPI32_NODE_OPTIONAL_SYMBOLS,
  ADVAPI32_NODE_SYMBOLS,
} from "../../ffi/advapi32_node.ts";

// etw-tracelogging.md §1, row by row: C parameters → Deno types → Bun types.
const SPEC: Record<
  string,
  { deno: [string[], string]; bun: [string[], string] }
> = {
  EventRegister: {
    deno: [["buffer", "pointer", "pointer", "buffer"], "u32"],
    bun: [["ptr", "ptr", "ptr", "ptr"], "u32"],
  },
  EventSetInformation: {
    deno: [["u64", "i32", "buffer", "u32"], "u32"],
    bun: [["u64", "i32", "ptr", "u32"], "u32"],
  },
  EventProviderEnabled: {
    deno: [["u64", "u8", "u64"], "u8"],
    bun: [["u64", "u8", "u64"], "u8"],
  },
  EventEnabled: {
    deno: [["u64", "buffer"], "u8"],
    bun: [["u64", "ptr"], "u8"],
  },
  EventWriteTransfer: {
    deno: [["u64", "buffer", "pointer", "pointer", "u32", "buffer"], "u32"],
    bun: [["u64", "ptr", "ptr", "ptr", "u32", "ptr"], "u32"],
  },
  EventUnregister: { deno: [["u64"], "u32"], bun: [["u64"], "u32"] },
};
// Wine lacks EventWriteEx and Windows 7 RTM lacks EventSetInformation: bind them optionally or not at all.
const OPTIONAL = new Set(["EventSetInformation"]);

describe("ADVAPI32_DENO_SYMBOLS", () => {
  it("declares exactly the spec's Deno types for every bound function", () => {
    assert.deepEqual(
      Object.keys(ADVAPI32_DENO_SYMBOLS).sort(),
      Object.keys(SPEC).sort(),
    );
    for (const [name, def] of Object.entries(ADVAPI32_DENO_SYMBOLS)) {
      assert.deepEqual([def.parameters, def.result], SPEC[name].deno, name);
      assert.equal(
        "optional" in def && def.optional === true,
        OPTIONAL.has(name),
        `${name} optional`,
      );
    }
  });
});

describe("ADVAPI32_NODE_SYMBOLS", () => {
  it("declares the spec's types in node:ffi names (every C pointer a pointer)", () => {
    const all = { ...ADVAPI32_NODE_SYMBOLS, ...ADVAPI32_NODE_OPTIONAL_SYMBOLS };
    assert.deepEqual(Object.keys(all).sort(), Object.keys(SPEC).sort());
    // Deno's buffer and pointer are both a C pointer; node:ffi has one name.
    const node = (t: string) => t === "buffer" ? "pointer" : t;
    for (const [name, def] of Object.entries(all)) {
      const [params, result] = SPEC[name].deno;
      assert.deepEqual(def.arguments, params.map(node), name);
      assert.equal(def.return, node(result), name);
      assert.equal(
        name in ADVAPI32_NODE_OPTIONAL_SYMBOLS,
        OPTIONAL.has(name),
        `${name} optional`,
      );
    }
  });
});

const isBun = typeof navigator === "object" &&
  navigator.userAgent.startsWith("Bun/");

describe("ADVAPI32_BUN_SYMBOLS", {
  skip: isBun ? false : "bun:ffi loads only in Bun",
}, () => {
  it("declares exactly the spec's Bun types for every bound function", async () => {
    const { FFIType } = await import("bun:ffi");
    const { ADVAPI32_BUN_SYMBOLS, ADVAPI32_BUN_OPTIONAL_SYMBOLS } =
      await import("../../ffi/advapi32_bun.ts");
    const all = {
      ...ADVAPI32_BUN_SYMBOLS,
      ...ADVAPI32_BUN_OPTIONAL_SYMBOLS,
    } as Record<
      string,
      { args: readonly number[]; returns: number }
    >;
    assert.deepEqual(Object.keys(all).sort(), Object.keys(SPEC).sort());
    const code = (t: string) =>
      (FFIType as unknown as Record<string, number>)[t];
    for (const [name, def] of Object.entries(all)) {
      const [params, result] = SPEC[name].bun;
      assert.deepEqual(def.args, params.map(code), name);
      assert.equal(def.returns, code(result), name);
      assert.equal(
        name in ADVAPI32_BUN_OPTIONAL_SYMBOLS,
        OPTIONAL.has(name),
        `${name} optional`,
      );
    }
  });
});
