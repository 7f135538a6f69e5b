#!/usr/bin/env bash
# Runs tests/windows/ with the Windows build of Deno under Wine and checks,
# from Wine's ETW trace (stderr), that the processors' real advapi32 calls
# arrive with the right arguments. Wine's ETW functions are stubs: they read
# no buffer, so bytes are checked by tests/etw/ (known answers, fake binding).
#
#   bash tests/windows/run.sh            # from the project root
#
# WINE_RUNNER overrides the path of run-windows-deno.sh (default: the shared
# checkout's ../shared/wine/run-windows-deno.sh). Prints `N passed, N failed`
# last and exits non-zero when a check failed.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
runner="${WINE_RUNNER:-$root/../shared/wine/run-windows-deno.sh}"
log="$(mktemp -t etw-wine.XXXXXX)"
out="$(mktemp -t etw-out.XXXXXX)"
trap 'rm -f "$log" "$out"' EXIT

start=$SECONDS
NO_COLOR=1 WINEDEBUG=-all,warn+ntdll,fixme+ntdll \
  bash "$runner" test --allow-ffi tests/windows/ >"$out" 2>"$log"
status=$?
echo "wine run: exit $status in $((SECONDS - start)) s"

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

check "deno test passed under Wine (exit 0)" test "$status" -eq 0
check "deno test ran the 5 Windows tests, none ignored" grep -qE '^ok \| 1 passed \(5 steps\) \| 0 failed \(' "$out"
# Provider GUIDs derived from the names (known answers of etw-tracelogging.md §3), NULL callback and context.
for guid in ce5fa4ea-ab00-5402-8b76-9f76ac858fb5 b3864c38-4273-58c5-545b-8b3608343471 97c801ee-c28b-5bb6-2ae4-11e18fe6137a; do
  check "EventRegister({$guid}, NULL, NULL, &handle)" \
    has "EtwEventRegister \(\{$guid\}, 0000000000000000, 0000000000000000, $hex\)"
done
# The REGHANDLE (Wine's 0xdeadbeef) read from the out-buffer and passed back by value; traits sizes.
check "handle round-trips to JS" grep -q 'ETW-TEST TestProvider handle=0xdeadbeef' "$out"
check "EventSetInformation(0xdeadbeef, 2, traits, 24) for MyCompany.MyComponent" \
  test "$(count "EtwEventSetInformation \(deadbeef, 2, $hex, 24\) stub")" -eq 2
check "EventSetInformation(0xdeadbeef, 2, traits, 13) for MyProvider" \
  test "$(count "EtwEventSetInformation \(deadbeef, 2, $hex, 13\) stub")" -eq 2
# Level and keyword: INFO → 4, ERROR → 2 (logs), spans at 5; keyword 1.
check "EventProviderEnabled(0xdeadbeef, 4, 1)" has "EtwEventProviderEnabled deadbeef, 4, 1: stub"
check "EventProviderEnabled(0xdeadbeef, 2, 1)" has "EtwEventProviderEnabled deadbeef, 2, 1: stub"
check "EventProviderEnabled(0xdeadbeef, 5, 1)" has "EtwEventProviderEnabled deadbeef, 5, 1: stub"
check "forced writes never ask EventProviderEnabled (exactly 4 asks)" \
  test "$(count "EtwEventProviderEnabled deadbeef")" -eq 4
# Three data descriptors, NULL activity ids; one write per forced record (2 logs + 1 span).
write="EtwEventWriteTransfer deadbeef, ($hex), \(null\), \(null\), 3, ($hex): stub"
check "EventWriteTransfer(0xdeadbeef, &desc, NULL, NULL, 3, dd) x3" test "$(count "$write")" -eq 3
check "no other EventWriteTransfer" test "$(count "EtwEventWriteTransfer")" -eq 3
check "descriptors live in one arena per provider (2 distinct pointers for 3 writes)" \
  test "$(grep -oE "$write" "$log" | sed -E 's/.*deadbeef, ([0-9A-F]+),.*/\1/' | sort -u | wc -l)" -eq 2
# Layout of the arena (processors/etw/_etw_provider.ts): EVENT_DESCRIPTOR at +0, data descriptors at
# +16, traits at +64, so the pointers Wine prints for one provider are one buffer's.
arena_ok() {
  local traits desc dd
  traits=$(grep -oE "EtwEventSetInformation \(deadbeef, 2, $hex, 24\)" "$log" | sed -n 1p | sed -E 's/.*, 2, ([0-9A-F]+), 24.*/\1/')
  read -r desc dd < <(grep -oE "$write" "$log" | sed -n 1p | sed -E 's/.*deadbeef, ([0-9A-F]+), .*, 3, ([0-9A-F]+):.*/\1 \2/')
  [[ -n "$traits" && -n "$desc" && -n "$dd" ]] || return 1
  ((16#$dd == 16#$desc + 16 && 16#$traits == 16#$desc + 64))
}
check "descriptor, data descriptors and traits sit in one arena (+0, +16, +64)" arena_ok
# Unregister: TestProvider + 2 log + 2 span processors (shutdown/dispose twice counts once).
check "EventUnregister(0xdeadbeef) x5" test "$(count "EtwEventUnregister \(deadbeef\) stub")" -eq 5

if ((failed > 0)); then
  echo "--- deno output"
  tail -n 40 "$out"
  echo "--- wine ETW log"
  grep -E 'Etw|err:' "$log" | tail -n 40
fi
echo "$passed passed, $failed failed"
((failed == 0))
