// Does each thread keep its own PKRU (the x86 protection-key rights register)
// across context switches? V8 gives JIT pages a protection key and flips
// PKRU per thread to write them (--memory-protection-keys, on by default).
// THREADS threads each set a different PKRU value, then yield and re-read it
// for SECONDS seconds; prints how many reads saw another value.
//   cc -O2 -pthread -o pkru_check pkru_check.c && ./pkru_check [THREADS] [SECONDS]
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static unsigned rdpkru(void) {
	unsigned eax, edx, ecx = 0;
	__asm__ volatile(".byte 0x0f,0x01,0xee" : "=a"(eax), "=d"(edx) : "c"(ecx));
	return eax;
}
static void wrpkru(unsigned v) {
	unsigned ecx = 0, edx = 0;
	__asm__ volatile(".byte 0x0f,0x01,0xef" : : "a"(v), "c"(ecx), "d"(edx));
}

static int seconds = 5;
struct arg { unsigned want; long reads, bad; unsigned seen; };

static void *run(void *p) {
	struct arg *a = p;
	wrpkru(a->want);
	time_t end = time(NULL) + seconds;
	while (time(NULL) < end) {
		for (int i = 0; i < 1000; i++) {
			unsigned v = rdpkru();
			a->reads++;
			if (v != a->want) { a->bad++; a->seen = v; wrpkru(a->want); }
		}
		sched_yield();
	}
	return NULL;
}

int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 4;
	if (argc > 2) seconds = atoi(argv[2]);
	pthread_t t[64];
	struct arg a[64];
	printf("main thread PKRU at start: 0x%08x\n", rdpkru());
	for (int i = 0; i < n; i++) {
		// keys 1..15: access-disable / write-disable bits differ per thread
		a[i] = (struct arg){ .want = 0x55555554u ^ ((unsigned)(i + 1) << 2 * (i % 15 + 1)) };
		pthread_create(&t[i], NULL, run, &a[i]);
	}
	long reads = 0, bad = 0;
	for (int i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		reads += a[i].reads; bad += a[i].bad;
		if (a[i].bad) printf("thread %d: want 0x%08x, saw 0x%08x, %ld bad reads\n", i, a[i].want, a[i].seen, a[i].bad);
	}
	printf("pkru_check: %ld bad of %ld reads, %d threads, %d s\n", bad, reads, n, seconds);
	return bad != 0;
}
