// bench/http_server.ts loads its servers in turns, in the order slotOrder
// gives. The request-cost figures are paired per round, so the order must
// not favour a server: over 2n rounds each of n servers takes every slot
// equally often, forward and reversed, and no server keeps one neighbour.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { slotOrder } from "../../bench/http_server.ts";

describe("bench/http_server.ts slotOrder", () => {
  for (const n of [3, 4]) {
    it(`gives each of ${n} servers every slot equally often over ${2 * n} rounds`, () => {
      const servers = Array.from({ length: n }, (_, i) => `s${i}`);
      const slots = new Map(servers.map((s) => [s, new Array(n).fill(0)]));
      const before = new Map(servers.map((s) => [s, new Set<string>()]));
      for (let round = 0; round < 2 * n; round++) {
        const order = slotOrder(servers, round);
        assert.deepEqual([...order].sort(), [...servers].sort());
        order.forEach((s, slot) => {
          slots.get(s)![slot]++;
          if (slot > 0) before.get(s)!.add(order[slot - 1]);
        });
      }
      for (const s of servers) {
        assert.deepEqual(slots.get(s), new Array(n).fill(2), s);
        // Two different servers come before it (its two neighbours in the
        // rotation), never the same one every round.
        assert.equal(before.get(s)!.size, 2, s);
      }
    });
  }

  it("keeps the given list unchanged and reverses odd rounds", () => {
    const servers = ["bare", "ours", "theirs", "baseline"];
    assert.deepEqual(slotOrder(servers, 0), servers);
    assert.deepEqual(slotOrder(servers, 1), [
      "baseline",
      "theirs",
      "ours",
      "bare",
    ]);
    assert.deepEqual(slotOrder(servers, 2), [
      "ours",
      "theirs",
      "baseline",
      "bare",
    ]);
    assert.deepEqual(servers, ["bare", "ours", "theirs", "baseline"]);
  });
});
