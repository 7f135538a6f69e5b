// bench/ue_emit.c's encode() as a shared library, so that a runtime can time
// the C encode in the same process and the same moments as its own
// (bench/encode_vs_c.ts): this host's speed changes by up to 2x from one
// second to the next, for C and TypeScript alike, so a ratio of two
// measurements taken minutes apart says more about the host than the code.
//
// ue_devnull_loop is the C side of the host-proxy row: bench/ue_emit.c
// --devnull's per-event work (the enable word, the encode, one write(2) to
// /dev/null) for n events in one call, so the FFI call that starts a round
// is spread over n events, as in the standalone program.
//
//   cc -O2 -shared -fPIC -o bench/bin/libue_encode.so bench/ue_encode_lib.c
#define main ue_emit_main
#include "ue_emit.c"
#undef main

static int ready;
static int devnull_fd = -1;

static void ensure_ready(void)
{
	if (!ready) {
		build_metadata();
		ready = 1;
	}
}

// Sets the event's time (whole ms since the epoch, RECORD.timestamp).
void ue_set_time_ms(double ms)
{
	TIME_NS = (uint64_t)ms * 1000000ULL;
}

// Encodes the event n times into a static buffer; returns ns per encode.
double ue_encode_loop(int n)
{
	static uint8_t buf[65536];
	ensure_ready();
	double t0 = now_ns();
	for (int i = 0; i < n; i++) {
		size_t len = encode(buf, (uint32_t)i);
		__asm__ volatile("" : : "r"(buf), "r"(len) : "memory");
	}
	return (now_ns() - t0) / (double)n;
}

// Emits the event n times into /dev/null as bench/ue_emit.c --devnull does
// (enable word, encode, write(2)); returns ns per emit, or -1 when /dev/null
// cannot be opened or a write fails.
double ue_devnull_loop(int n)
{
	static uint8_t buf[65536];
	ensure_ready();
	if (devnull_fd < 0) {
		devnull_fd = open("/dev/null", O_WRONLY);
		if (devnull_fd < 0) return -1;
		enable_word = 1;
	}
	long failed = 0;
	double t0 = now_ns();
	for (int i = 0; i < n; i++) {
		if (enable_word == 0) continue;
		size_t len = encode(buf, 0);
		if (write(devnull_fd, buf, len) < 0) failed++;
	}
	double per = (now_ns() - t0) / (double)n;
	return failed == 0 ? per : -1;
}

// Encodes one event (write index 0) into out; returns its length, or -1
// when cap is too small.
int ue_dump(uint8_t *out, int cap)
{
	static uint8_t buf[65536];
	ensure_ready();
	size_t len = encode(buf, 0);
	if (len > (size_t)cap) return -1;
	memcpy(out, buf, len);
	return (int)len;
}
