// The C equivalent of the enabled ETW emit (bench/encode_vs_c.ts --case etw):
// the TraceLogging event the EtwProcessor hands EventWriteTransfer for
// bench/_fixtures.ts RECORD (provider "Bench.Provider", service.name
// "bench"), encoded the way a C TraceLogging provider does it: the provider
// traits and the event metadata are built once (TraceLoggingWrite's are
// compile-time constants), and per event the payload is encoded into a
// buffer, the three EVENT_DATA_DESCRIPTORs are filled (traits Type 2,
// metadata Type 1, payload Type 0; etw-tracelogging.md §7) and
// EventWriteTransfer is called, here a recording fake that only counts, as
// the TypeScript arm's is. The enabled check is a memory read of the level a
// session asked for (what TraceLoggingWrite tests, set by the enable
// callback).
//
// It reuses bench/ue_emit.c's record constants and its RFC 3339 and counted
// string writers (the ETW event carries the same fields as the user_events
// one).
//
//   cc -O2 -shared -fPIC -o bench/bin/libetw_encode.so bench/etw_encode_lib.c
//   cc -O2 -DETW_DUMP_MAIN -o etw_dump bench/etw_encode_lib.c && ./etw_dump MS
#define main ue_emit_main
#include "ue_emit.c"
#undef main

struct event_data_descriptor {
	uint64_t ptr;
	uint32_t size;
	uint8_t type;
	uint8_t reserved1;
	uint16_t reserved2;
};

// EVENT_DESCRIPTOR: Id 0, Version 0, Channel 11, Level 4, Opcode 0, Task 0, Keyword 1.
static const uint8_t ETW_DESCRIPTOR[16] = { 0, 0, 0, 11, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0 };
static const char *PROVIDER = "Bench.Provider";

static uint8_t traits[64];
static size_t traits_len;
static uint8_t etw_meta[512];
static size_t etw_meta_len;
static uint8_t payload[4096];
static struct event_data_descriptor data[3];
static volatile uint8_t session_level = 5; // what the enable callback would store
static unsigned long writes;
static int etw_ready;

static void m_name(const char *s) { size_t n = strlen(s) + 1; memcpy(etw_meta + etw_meta_len, s, n); etw_meta_len += n; }
static void m_byte(uint8_t b) { etw_meta[etw_meta_len++] = b; }

static void etw_build(void)
{
	size_t n = strlen(PROVIDER) + 1;
	traits_len = 2 + n;
	traits[0] = (uint8_t)traits_len; traits[1] = (uint8_t)(traits_len >> 8);
	memcpy(traits + 2, PROVIDER, n);
	etw_meta_len = 2;
	m_byte(0); // event tags
	m_name("Log");
	m_name("__csver__"); m_byte(0x86); m_byte(18);     // UINT16, OutType UNSIGNED
	m_name("PartA"); m_byte(0x98); m_byte(2);          // STRUCT, 2 members
	m_name("ext_cloud"); m_byte(0x98); m_byte(1);
	m_name("role"); m_byte(0x17);                      // COUNTEDANSISTRING
	m_name("time"); m_byte(0x17);
	m_name("PartC"); m_byte(0x98); m_byte(4);
	m_name("user.id"); m_byte(0x09);                   // INT64
	m_name("http.request.method"); m_byte(0x17);
	m_name("url.path"); m_byte(0x17);
	m_name("retry"); m_byte(0x0d);                     // BOOL32
	m_name("PartB"); m_byte(0x98); m_byte(4);
	m_name("_typeName"); m_byte(0x17);
	m_name("body"); m_byte(0x17);
	m_name("severityNumber"); m_byte(0x05);            // INT16
	m_name("severityText"); m_byte(0x17);
	etw_meta[0] = (uint8_t)etw_meta_len; etw_meta[1] = (uint8_t)(etw_meta_len >> 8);
	data[0].ptr = (uint64_t)(uintptr_t)traits; data[0].size = (uint32_t)traits_len; data[0].type = 2;
	data[1].ptr = (uint64_t)(uintptr_t)etw_meta; data[1].size = (uint32_t)etw_meta_len; data[1].type = 1;
	data[2].ptr = (uint64_t)(uintptr_t)payload; data[2].type = 0;
	etw_ready = 1;
}

// The recording fake of EventWriteTransfer: counts, as the bench's binding does.
__attribute__((noinline)) static uint32_t fake_event_write_transfer(
	uint64_t handle, const uint8_t *descriptor, const uint8_t *activity,
	const uint8_t *related, uint32_t count, const struct event_data_descriptor *dd)
{
	writes++;
	__asm__ volatile("" : : "r"(handle), "r"(descriptor), "r"(activity), "r"(related), "r"(count), "r"(dd) : "memory");
	return 0;
}

// One enabled emit: the level check, the payload, the descriptors, the write.
static inline uint32_t etw_emit(void)
{
	if (session_level < LEVEL) return 0;
	uint8_t *p = payload;
	uint16_t csver = 0x400; memcpy(p, &csver, 2); p += 2;
	p = put_str(p, SERVICE, strlen(SERVICE));
	p = put_time(p, TIME_NS);
	memcpy(p, &USER_ID, 8); p += 8;
	p = put_str(p, METHOD, strlen(METHOD));
	p = put_str(p, PATH, strlen(PATH));
	int32_t retry = RETRY; memcpy(p, &retry, 4); p += 4;
	p = put_str(p, "Log", 3);
	p = put_str(p, BODY, strlen(BODY));
	memcpy(p, &SEVERITY, 2); p += 2;
	p = put_str(p, SEVERITY_TEXT, strlen(SEVERITY_TEXT));
	data[1].size = (uint32_t)etw_meta_len;
	data[2].size = (uint32_t)(p - payload);
	return fake_event_write_transfer(7, ETW_DESCRIPTOR, NULL, NULL, 3, data);
}

// Sets the event's time (whole ms since the epoch, RECORD.timestamp).
void etw_set_time_ms(double ms)
{
	TIME_NS = (uint64_t)ms * 1000000ULL;
}

// Emits the event n times; returns ns per emit.
double etw_encode_loop(int n)
{
	if (!etw_ready) etw_build();
	double t0 = now_ns();
	for (int i = 0; i < n; i++) etw_emit();
	return (now_ns() - t0) / (double)n;
}

// One emit's call, serialized into out: the 16-byte EVENT_DESCRIPTOR, then
// per data descriptor its type (u8), size (u32 LE) and the bytes it points
// at. Returns the length, or -1 when cap is too small.
int etw_dump(uint8_t *out, int cap)
{
	if (!etw_ready) etw_build();
	etw_emit();
	size_t need = 16;
	for (int i = 0; i < 3; i++) need += 5 + data[i].size;
	if (need > (size_t)cap) return -1;
	uint8_t *p = out;
	memcpy(p, ETW_DESCRIPTOR, 16); p += 16;
	for (int i = 0; i < 3; i++) {
		*p++ = data[i].type;
		memcpy(p, &data[i].size, 4); p += 4;
		memcpy(p, (const void *)(uintptr_t)data[i].ptr, data[i].size); p += data[i].size;
	}
	return (int)(p - out);
}

#ifdef ETW_DUMP_MAIN
// etw_dump MS: prints etw_dump()'s bytes in hex for the event at MS.
int main(int argc, char **argv)
{
	static uint8_t out[8192];
	if (argc > 1) etw_set_time_ms(strtod(argv[1], NULL));
	int n = etw_dump(out, (int)sizeof(out));
	for (int i = 0; i < n; i++) printf("%02x", out[i]);
	printf("\n");
	return n < 0;
}
#endif
