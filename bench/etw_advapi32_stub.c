// A Linux stand-in for advapi32.dll's ETW provider API, for
// bench/etw_ffi_ab.ts: the production FFI bindings (ffi/advapi32_deno.ts,
// ffi/advapi32_bun.ts) open "advapi32.dll" by name, which the dynamic
// loader finds on LD_LIBRARY_PATH, so the timed emit pays the real
// JS-to-native calls of EventProviderEnabled and EventWriteTransfer (the
// bench's JS recording fake costs nothing once inlined). One session at
// level 5, keyword 1; EventWriteTransfer only counts.
//
//   mkdir -p bench/bin/advapi32 && cc -O2 -shared -fPIC -o bench/bin/advapi32/advapi32.dll bench/etw_advapi32_stub.c
#include <stdint.h>

static volatile uint8_t session_level = 5;
static volatile uint64_t session_keywords = 1;
static unsigned long writes;

uint32_t EventRegister(const uint8_t *id, void *callback, void *context, uint64_t *handle)
{
	(void)id; (void)callback; (void)context;
	*handle = 7;
	return 0;
}

uint32_t EventSetInformation(uint64_t handle, int32_t infoClass, const uint8_t *info, uint32_t length)
{
	(void)handle; (void)infoClass; (void)info; (void)length;
	return 0;
}

uint8_t EventProviderEnabled(uint64_t handle, uint8_t level, uint64_t keyword)
{
	(void)handle;
	return level <= session_level && (keyword & session_keywords) != 0;
}

uint8_t EventEnabled(uint64_t handle, const uint8_t *descriptor)
{
	(void)handle; (void)descriptor;
	return 1;
}

uint32_t EventWriteTransfer(uint64_t handle, const uint8_t *descriptor, const uint8_t *activity,
	const uint8_t *related, uint32_t count, const uint8_t *data)
{
	writes++;
	__asm__ volatile("" : : "r"(handle), "r"(descriptor), "r"(activity), "r"(related), "r"(count), "r"(data) : "memory");
	return 0;
}

uint32_t EventUnregister(uint64_t handle)
{
	(void)handle;
	return 0;
}
