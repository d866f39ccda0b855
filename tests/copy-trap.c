/* SPDX-License-Identifier: MIT */
/* Writers that pause part-way through a frame, at a page they may not touch. */
#include "copy-trap.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "frame-pattern.h"

static struct copy_trap {
	size_t page;
	uint8_t *guard; /* after payload room of guard_len bytes, and as long */
	size_t guard_len;
	uint8_t *armed; /* the range that pauses whoever touches it; NULL: none */
	size_t armed_len;
	uint8_t *then; /* armed read-only when `armed` is hit, instead of pausing there */
	long nap_us;   /* 0: stop the process instead */
} trap;

static void trap_pause(void)
{
	if (trap.nap_us) {
		const struct timespec nap = { .tv_sec = trap.nap_us / 1000000,
					      .tv_nsec = trap.nap_us % 1000000 * 1000 };

		nanosleep(&nap, NULL);
	} else {
		raise(SIGSTOP);
	}
}

static void trap_on_fault(int sig, siginfo_t *info, void *context)
{
	uint8_t *addr = info->si_addr, *hit = trap.armed;
	size_t hit_len = trap.armed_len;

	(void)context;
	if (!hit || addr < hit || addr >= hit + hit_len) {
		/* A real fault: let it kill the process on return. */
		signal(sig, SIG_DFL);
		return;
	}
	if (trap.then) {
		trap.armed = trap.then;
		trap.armed_len = trap.page;
		trap.then = NULL;
		mprotect(trap.armed, trap.page, PROT_READ);
	} else {
		trap_pause();
		trap.armed = NULL;
	}
	mprotect(hit, hit_len, PROT_READ | PROT_WRITE);
}

static int trap_arm(uint8_t *start, size_t len, int prot)
{
	trap.armed = start;
	trap.armed_len = len;
	return mprotect(start, len, prot) < 0 ? -errno : 0;
}

static int trap_disarm(void)
{
	uint8_t *armed = trap.armed;

	trap.armed = NULL;
	trap.then = NULL;
	if (armed && mprotect(armed, trap.armed_len, PROT_READ | PROT_WRITE) < 0)
		return -errno;
	return 0;
}

static uint8_t *page_of(const void *addr)
{
	return (uint8_t *)((uintptr_t)addr & ~(uintptr_t)(trap.page - 1));
}

int trap_setup(size_t payload_max, long nap_us)
{
	struct sigaction action = { .sa_sigaction = trap_on_fault, .sa_flags = SA_SIGINFO };
	uint8_t *area;

	trap.page = (size_t)sysconf(_SC_PAGESIZE);
	trap.guard_len =
		payload_max ? (payload_max + trap.page - 1) / trap.page * trap.page : trap.page;
	trap.nap_us = nap_us;
	trap.armed = NULL;
	trap.then = NULL;
	area = mmap(NULL, 2 * trap.guard_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	if (area == MAP_FAILED)
		return -errno;
	trap.guard = area + trap.guard_len;
	sigemptyset(&action.sa_mask);
	return sigaction(SIGSEGV, &action, NULL) < 0 ? -errno : 0;
}

uint8_t *trap_payload(size_t before)
{
	return trap.guard - before;
}

int trap_close(void)
{
	return trap_arm(trap.guard, trap.guard_len, PROT_NONE);
}

int trap_open(void)
{
	return trap_disarm();
}

int trapped_write(orbit_ring_t *ring, uint16_t node, uint64_t seq, size_t before)
{
	uint8_t *payload = trap_payload(before);
	size_t len = pattern_fill(payload, orbit_ring_payload_max(ring), node, seq);
	int ret, disarmed;

	ret = trap_close();
	if (ret < 0)
		return ret;
	ret = pattern_write_filled(ring, node, seq, payload, len, NULL);
	/* Whatever is still armed opens again: a superseded write copies nothing. */
	disarmed = trap_open();
	return disarmed < 0 ? disarmed : ret;
}

void trap_then_page(const void *addr)
{
	trap.then = page_of(addr);
}

int trap_arm_page(const void *addr)
{
	trap.then = NULL;
	return trap_arm(page_of(addr), trap.page, PROT_NONE);
}
