/* SPDX-License-Identifier: MIT */
/* The copy trap of copy-trap.h: a guard region, and the fault handler that pauses in it. */
#include "copy-trap.h"

#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "frame-pattern.h"

static struct copy_trap {
	uint8_t *guard; /* first byte of the PROT_NONE region */
	size_t guard_len;
	long pause_us; /* 0: stop the process instead */
} trap;

static void trap_on_fault(int sig, siginfo_t *info, void *context)
{
	const struct timespec pause = { .tv_sec = trap.pause_us / 1000000,
					.tv_nsec = trap.pause_us % 1000000 * 1000 };
	uint8_t *addr = info->si_addr;

	(void)context;
	if (addr < trap.guard || addr >= trap.guard + trap.guard_len) {
		/* A real fault: let it kill the process on return. */
		signal(sig, SIG_DFL);
		return;
	}
	if (trap.pause_us)
		nanosleep(&pause, NULL);
	else
		raise(SIGSTOP);
	mprotect(trap.guard, trap.guard_len, PROT_READ | PROT_WRITE);
}

int copy_trap_setup(size_t payload_max, long pause_us)
{
	struct sigaction action = { .sa_sigaction = trap_on_fault, .sa_flags = SA_SIGINFO };
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *area;

	trap.guard_len = (payload_max + page - 1) / page * page;
	trap.pause_us = pause_us;
	area = mmap(NULL, 2 * trap.guard_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	if (area == MAP_FAILED)
		return -errno;
	trap.guard = area + trap.guard_len;
	sigemptyset(&action.sa_mask);
	return sigaction(SIGSEGV, &action, NULL) < 0 ? -errno : 0;
}

uint8_t *copy_trap_payload(size_t before)
{
	return trap.guard - before;
}

int copy_trap_close(void)
{
	return mprotect(trap.guard, trap.guard_len, PROT_NONE) < 0 ? -errno : 0;
}

int copy_trap_open(void)
{
	return mprotect(trap.guard, trap.guard_len, PROT_READ | PROT_WRITE) < 0 ? -errno : 0;
}

int copy_trap_pattern_write(orbit_ring_t *ring, uint16_t node, uint64_t seq, size_t before)
{
	uint8_t *payload = copy_trap_payload(before);
	size_t len = pattern_fill(payload, orbit_ring_payload_max(ring), node, seq);
	int ret = copy_trap_close();

	if (ret < 0)
		return ret;
	ret = pattern_write_filled(ring, node, seq, payload, len, NULL);
	/* Open again: a superseded write copies nothing, so the handler may not have run. */
	if (copy_trap_open() < 0)
		return -errno;
	return ret;
}
