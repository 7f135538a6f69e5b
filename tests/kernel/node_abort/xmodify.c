// Cross-modifying code, the way V8 patches a WebAssembly jump table while
// another thread runs through it (tier-up installs TurboFan code from a
// background thread): thread A keeps calling an 8-byte jump slot
// (jmp rel32 + 3 nops), thread B keeps rewriting the slot with one aligned
// 8-byte store, alternating between two targets whose rel32 differ in every
// byte. The rest of the region is int3. On x86 hardware a caller sees the old
// or the new jump, never a mix; a torn instruction fetch lands on an int3
// (SIGTRAP) or elsewhere (SIGSEGV), which this program reports.
//   gcc -O2 -pthread -o out/xmodify tests/kernel/node_abort/xmodify.c
//   out/xmodify SECONDS [same]   ("same": thread A patches the slot itself)
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define REGION (16u << 20)
#define T1 0x00123450u /* rel32 bytes differ in all four positions */
#define T2 0x00ABCDE0u
static uint8_t *region;
static uint64_t slot_word[2];
static volatile int stop;
static volatile uint64_t calls, patches, wrong, seen[3], flips;

static void on_signal(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  char msg[200];
  int n = snprintf(msg, sizeof msg,
                   "TORN: signal %d at %p after %llu calls, %llu patches\n",
                   sig, si->si_addr, (unsigned long long)calls,
                   (unsigned long long)patches);
  write(2, msg, n);
  _exit(3);
}

static uint64_t jump_word(uint32_t target) {
  uint8_t b[8] = {0xE9, 0, 0, 0, 0, 0x90, 0x90, 0x90};
  uint32_t rel = target - 5; /* slot at offset 0 */
  memcpy(b + 1, &rel, 4);
  uint64_t w;
  memcpy(&w, b, 8);
  return w;
}

static void pin(int cpu) {
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(cpu, &s);
  pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

static void *patcher(void *arg) {
  (void)arg;
  pin(1);
  uint64_t *slot = (uint64_t *)region;
  for (unsigned i = 0; !stop; i++) {
    __atomic_store_n(slot, slot_word[i & 1], __ATOMIC_RELEASE);
    patches++;
  }
  return NULL;
}

int main(int argc, char **argv) {
  int secs = argc > 1 ? atoi(argv[1]) : 10;
  int same = argc > 2 && strcmp(argv[2], "same") == 0;
  region = mmap(NULL, REGION, PROT_READ | PROT_WRITE | PROT_EXEC,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region == MAP_FAILED) return perror("mmap"), 2;
  memset(region, 0xCC, REGION);
  const uint8_t ret1[] = {0xB8, 1, 0, 0, 0, 0xC3}; /* mov eax,1; ret */
  const uint8_t ret2[] = {0xB8, 2, 0, 0, 0, 0xC3};
  memcpy(region + T1, ret1, sizeof ret1);
  memcpy(region + T2, ret2, sizeof ret2);
  slot_word[0] = jump_word(T1);
  slot_word[1] = jump_word(T2);
  memcpy(region, &slot_word[0], 8);
  struct sigaction sa = {0};
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGTRAP, &sa, NULL);
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGILL, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
  pthread_t t;
  if (!same) pthread_create(&t, NULL, patcher, NULL);
  pin(0);
  int (*fn)(void) = (int (*)(void))region;
  time_t end = time(NULL) + secs;
  uint64_t *slot = (uint64_t *)region;
  int last = 1;
  while (time(NULL) < end) {
    for (int k = 0; k < 1000; k++) {
      if (same) {
        __atomic_store_n(slot, slot_word[k & 1], __ATOMIC_RELEASE);
        patches++;
      }
      int r = fn();
      if (r != 1 && r != 2) wrong++;
      else {
        if (r != last) flips++;
        last = r;
        seen[r]++;
      }
      calls++;
    }
  }
  stop = 1;
  if (!same) pthread_join(t, NULL);
  printf("%s: %llu calls (%llu to the first target, %llu to the second, "
         "%llu changes of target), %llu patches, %llu wrong results, "
         "no torn jump\n",
         same ? "same thread" : "cross thread", (unsigned long long)calls,
         (unsigned long long)seen[1], (unsigned long long)seen[2],
         (unsigned long long)flips, (unsigned long long)patches,
         (unsigned long long)wrong);
  return wrong ? 4 : 0;
}
