// bench/ue_emit.c's encode() as a shared library, so that a runtime can time
// the C encode in the same process and the same moments as its own
// (bench/encode_vs_c.ts): this host's speed changes by up to 2x from one
// second to the next, for C and TypeScript alike, so a ratio of two
// measurements taken minutes apart says more about the host than the code.
//
//   cc -O2 -shared -fPIC -o bench/bin/libue_encode.so bench/ue_encode_lib.c
#define main ue_emit_main
#include "ue_emit.c"
#undef main

static int ready;

// Sets the event's time (whole ms since the epoch, RECORD.timestamp).
void ue_set_time_ms(double ms)
{
	TIME_NS = (uint64_t)ms * 1000000ULL;
}

// Encodes the event n times into a static buffer; returns ns per encode.
double ue_encode_loop(int n)
{
	static uint8_t buf[65536];
	if (!ready) {
		build_metadata();
		ready = 1;
	}
	double t0 = now_ns();
	for (int i = 0; i < n; i++) {
		size_t len = encode(buf, (uint32_t)i);
		__asm__ volatile("" : : "r"(buf), "r"(len) : "memory");
	}
	return (now_ns() - t0) / (double)n;
}
