/* SPDX-License-Identifier: MIT */
/*
 * Fleets: a name, this process's node, the fleet size, validated options, and a
 * registry of 256 rings (one per kind) created on first use from any thread.
 */
#include <orbit.h>

#include <bsd/string.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fleet.h"
#include "log.h"
#include "backoff.h"
#include "bell.h"
#include "lease.h"
#include "macro.h"
#include "ring.h"
#include "ring-layout.h"

#define FLEET_NAME_MAX	       200
#define FLEET_KINDS	       256
#define FLEET_DEFAULT_CAPACITY 1024u
#define FLEET_MAX_CAPACITY     (1u << 24)
#define FLEET_DEFAULT_PAYLOAD  ORBIT_LAYOUT1_PAYLOAD
#define FLEET_MAX_PAYLOAD      (1u << 20)
#define FLEET_DEFAULT_MODE     0600u
/* "/orbit-" NAME "-" KIND "-" UID and the NUL, or "subjects" in place of KIND. */
#define FLEET_SHM_NAME_MAX (7 + FLEET_NAME_MAX + 1 + 8 + 1 + 10 + 1)

struct fleet_config {
	uint32_t capacity;
	uint32_t payload_max;
	uint32_t mode;
	uint64_t stall_ns;
	bool has_owner; /* ORBIT_FLEET_OWNER: the fleet is owner's, not the caller's */
	uint32_t owner;
};

struct orbit_fleet {
	char name[FLEET_NAME_MAX + 1];
	uint16_t node;
	uint16_t size;
	bool shared;
	struct fleet_config config;
	pthread_mutex_t create_lock; /* serialises ring creation; never taken once a ring exists */
	_Atomic(struct lease_table *) leases; /* opened with the first ring */
	struct bell_table *bells;	      /* opened with the lease table */
	_Atomic(orbit_ring_t *) rings[FLEET_KINDS];
};

/* 0, or -EINVAL and (under ORBIT_DEBUG) the rule the name breaks. */
static int fleet_name_check(const char *call, const char *name)
{
	size_t len = 0;

	if (!name)
		return ORBIT_INVALID("%s: name is NULL", call);
	if (name[0] == '.')
		return ORBIT_INVALID("%s: name \"%.64s\": starts with '.'", call, name);
	for (const char *p = name; *p; p++, len++) {
		bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			  (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-';

		if (!ok && *p > ' ' && *p < 0x7f)
			return ORBIT_INVALID("%s: name \"%.64s\": byte '%c' not in [A-Za-z0-9_.-]",
					     call, name, *p);
		if (!ok)
			return ORBIT_INVALID("%s: name: byte 0x%02x at %zu not in [A-Za-z0-9_.-]",
					     call, (unsigned char)*p, len);
		if (len >= FLEET_NAME_MAX)
			return ORBIT_INVALID("%s: name longer than %u bytes", call, FLEET_NAME_MAX);
	}
	return len > 0 ? 0 : ORBIT_INVALID("%s: name is empty", call);
}

static bool bytes_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Whether a caller's options struct, maybe older and smaller, has a field. */
#define OPTS_HAS(opts, field) \
	(offsetof(orbit_fleet_options_t, field) + sizeof((opts)->field) <= (opts)->size)

/* A field of a caller's options struct, or 0 when the caller's (older) struct ends before it. */
#define OPTS_GET(opts, field) (OPTS_HAS(opts, field) ? (opts)->field : 0)

/* Sets a field of a caller's options struct only if the caller's (older) struct has it. */
#define OPTS_SET(opts, field, value)             \
	do {                                     \
		if (OPTS_HAS(opts, field))       \
			(opts)->field = (value); \
	} while (0)

static const uint32_t fleet_modes[] = { 0600, 0640, 0660 };

static bool fleet_mode_valid(uint32_t mode)
{
	for (size_t i = 0; i < ORBIT_ARRAY_SIZE(fleet_modes); i++)
		if (mode == fleet_modes[i])
			return true;
	return false;
}

static int fleet_flags_from(const char *call, const orbit_fleet_options_t *opts, uint32_t flags,
			    struct fleet_config *config)
{
	if (flags & ~ORBIT_FLEET_OWNER)
		return ORBIT_INVALID("%s: flags 0x%x has bits other than ORBIT_FLEET_OWNER", call,
				     flags);
	config->has_owner = flags & ORBIT_FLEET_OWNER;
	if (!config->has_owner)
		return 0;
	if (!OPTS_HAS(opts, owner))
		return ORBIT_INVALID("%s: ORBIT_FLEET_OWNER in a struct of %zu bytes, which ends "
				     "before owner",
				     call, opts->size);
	config->owner = opts->owner;
	return 0;
}

static int fleet_config_from(const char *call, const orbit_fleet_options_t *opts,
			     struct fleet_config *config)
{
	uint32_t capacity = 0, payload_max = 0, mode = 0, flags = 0, stall_ms = 0;

	config->has_owner = false;
	if (opts) {
		if (opts->size < sizeof(opts->size))
			return ORBIT_INVALID("%s: opts->size %zu is below sizeof(size_t)", call,
					     opts->size);
		/* A newer caller's struct may be larger: only if it asks for nothing we lack. */
		if (opts->size > sizeof(*opts) &&
		    !bytes_zero((const uint8_t *)opts + sizeof(*opts), opts->size - sizeof(*opts)))
			return ORBIT_INVALID("%s: opts->size %zu: a byte past %zu is not 0", call,
					     opts->size, sizeof(*opts));
		capacity = OPTS_GET(opts, capacity);
		payload_max = OPTS_GET(opts, payload_max);
		mode = OPTS_GET(opts, mode);
		flags = OPTS_GET(opts, flags);
		stall_ms = OPTS_GET(opts, stall_ms);
	}
	config->capacity = capacity ? capacity : FLEET_DEFAULT_CAPACITY;
	config->payload_max = payload_max ? payload_max : FLEET_DEFAULT_PAYLOAD;
	config->mode = mode ? mode : FLEET_DEFAULT_MODE;
	config->stall_ns = stall_ms ? stall_ms * UINT64_C(1000000) : STALL_DEFAULT_NS;
	if (!ring_capacity_valid(config->capacity) || config->capacity > FLEET_MAX_CAPACITY)
		return ORBIT_INVALID("%s: capacity %u is not a power of two from 2 to %u", call,
				     config->capacity, FLEET_MAX_CAPACITY);
	if (config->payload_max > FLEET_MAX_PAYLOAD)
		return ORBIT_INVALID("%s: payload_max %u is above %u", call, config->payload_max,
				     FLEET_MAX_PAYLOAD);
	if (!fleet_mode_valid(config->mode))
		return ORBIT_INVALID("%s: mode %04o is not 0, 0600, 0640 or 0660", call,
				     config->mode);
	return fleet_flags_from(call, opts, flags, config);
}

/* The uid whose fleet this is: its segments carry it in their names, and it owns them. */
static uint32_t fleet_uid(const orbit_fleet_t *fleet)
{
	return fleet->config.has_owner ? fleet->config.owner : (uint32_t)geteuid();
}

/*
 * A member of the owner's group joins to read and write (see check_granted() in the
 * region): only a fleet whose mode lets the group write can be joined by another user.
 */
static int fleet_owner_check(const struct fleet_config *config)
{
	if (!config->has_owner || config->owner == geteuid() || config->mode == 0660)
		return 0;
	orbit_log_debug("fleet of uid %u joined with mode %04o: another user's fleet is joined "
			"with mode 0660, to read and write it; liborbit cannot join one read-only",
			(unsigned)config->owner, (unsigned)config->mode);
	return -EACCES;
}

static int fleet_join(const char *name, uint16_t node, uint16_t size,
		      const orbit_fleet_options_t *opts, bool shared, orbit_fleet_t **out)
{
	struct fleet_config config;
	const char *call = shared ? "orbit_fleet_join_shm" : "orbit_fleet_join";
	orbit_fleet_t *fleet;
	int ret;

	ret = fleet_name_check(call, name);
	if (ret < 0)
		return ret;
	if (!out)
		return ORBIT_INVALID("%s: fleet is NULL", call);
	if (size == 0)
		return ORBIT_INVALID("%s: size is 0", call);
	if (node >= size)
		return ORBIT_INVALID("%s: node %u is not below size %u", call, node, size);
	ret = fleet_config_from(call, opts, &config);
	if (ret == 0 && shared)
		ret = fleet_owner_check(&config);
	if (ret < 0)
		return ret;
	fleet = calloc(1, sizeof(*fleet));
	if (!fleet)
		return -ENOMEM;
	ret = pthread_mutex_init(&fleet->create_lock, NULL);
	if (ret) {
		free(fleet);
		return -ret;
	}
	strlcpy(fleet->name, name, sizeof(fleet->name));
	fleet->node = node;
	fleet->size = size;
	fleet->shared = shared;
	fleet->config = config;
	*out = fleet;
	return 0;
}

ORBIT_EXPORT int orbit_fleet_join(const char *name, uint16_t node, uint16_t size,
				  const orbit_fleet_options_t *opts, orbit_fleet_t **fleet)
{
	return fleet_join(name, node, size, opts, false, fleet);
}

ORBIT_EXPORT int orbit_fleet_join_shm(const char *name, uint16_t node, uint16_t size,
				      const orbit_fleet_options_t *opts, orbit_fleet_t **fleet)
{
	return fleet_join(name, node, size, opts, true, fleet);
}

ORBIT_EXPORT void orbit_fleet_leave(orbit_fleet_t *fleet)
{
	if (!fleet)
		return;
	for (unsigned kind = 0; kind < FLEET_KINDS; kind++)
		ring_close(atomic_load_explicit(&fleet->rings[kind], memory_order_relaxed));
	bell_table_close(fleet->bells);
	lease_table_close(atomic_load_explicit(&fleet->leases, memory_order_relaxed));
	pthread_mutex_destroy(&fleet->create_lock);
	free(fleet);
}

static void segment_name(const char *fleet, unsigned kind, uint32_t uid, char *buf, size_t size)
{
	snprintf(buf, size, "/orbit-%s-%u-%lu", fleet, kind, (unsigned long)uid);
}

/* The lease table's segments: a word where rings have a kind, so no ring can take it. */
static const char *const table_words[] = { "leases", "subjects", "bells" };

static void table_name(const orbit_fleet_t *fleet, const char *word, char *buf, size_t size)
{
	snprintf(buf, size, "/orbit-%s-%s-%lu", fleet->name, word, (unsigned long)fleet_uid(fleet));
}

ORBIT_EXPORT int orbit_fleet_unlink(orbit_fleet_t *fleet)
{
	char name[FLEET_SHM_NAME_MAX];
	int removed = 0, error = 0, ret;

	if (!fleet)
		return ORBIT_INVALID("orbit_fleet_unlink: fleet is NULL");
	if (!fleet->shared)
		return 0;
	/*
	 * Objects that are not the owner's are left in place; whether we may remove the
	 * owner's is the kernel's decision (the owner and root may, in the sticky /dev/shm).
	 */
	for (unsigned kind = 0; kind < FLEET_KINDS; kind++) {
		segment_name(fleet->name, kind, fleet_uid(fleet), name, sizeof(name));
		ret = ring_unlink(name, fleet_uid(fleet));
		if (ret > 0)
			removed++;
		else if (ret < 0 && !error)
			error = ret;
	}
	/* Not counted: callers count the rings they made. */
	for (size_t i = 0; i < ORBIT_ARRAY_SIZE(table_words); i++) {
		table_name(fleet, table_words[i], name, sizeof(name));
		ret = lease_table_unlink(name, fleet_uid(fleet));
		if (ret < 0 && !error)
			error = ret;
	}
	return error ? error : removed;
}

ORBIT_EXPORT const char *orbit_fleet_name(const orbit_fleet_t *fleet)
{
	return fleet ? fleet->name : NULL;
}

ORBIT_EXPORT uint16_t orbit_fleet_node(const orbit_fleet_t *fleet)
{
	return fleet ? fleet->node : 0;
}

ORBIT_EXPORT uint16_t orbit_fleet_size(const orbit_fleet_t *fleet)
{
	return fleet ? fleet->size : 0;
}

ORBIT_EXPORT int orbit_fleet_is_shared(const orbit_fleet_t *fleet)
{
	return fleet ? fleet->shared : ORBIT_INVALID("orbit_fleet_is_shared: fleet is NULL");
}

/* Whether a lease table "/orbit-NAME-leases-UID" that our group may use is uid's own. */
static int split_found(const char *name, const struct stat *st, void *ctx)
{
	const orbit_fleet_t *fleet = ctx;
	/* Just past the prefix, not a ring of a fleet "NAME-leases": "/orbit-NAME-leases-" */
	const char *digits = name + strlen("/orbit-") + strlen(fleet->name) + strlen("-leases-");
	unsigned long uid;
	char *end;

	if (*digits < '0' || *digits > '9')
		return 0;
	uid = strtoul(digits, &end, 10);
	if (*end || uid > UINT32_MAX || st->st_uid != uid)
		return 0;
	orbit_log_debug("fleet %s: %s, of uid %lu, mode %04o, group %u, is shared with our "
			"group: set opts.owner = %lu and ORBIT_FLEET_OWNER in opts.flags to join "
			"that fleet rather than make a separate one of uid %u",
			fleet->name, name, uid, (unsigned)(st->st_mode & 07777),
			(unsigned)st->st_gid, uid, (unsigned)geteuid());
	return -EEXIST;
}

/*
 * A user who forgets ORBIT_FLEET_OWNER would make a fleet of its own under the name of
 * one its group shares, and never see a frame of it. Only a new fleet is looked at, one
 * whose lease table (made with its first ring) does not exist: that costs one failed
 * open, and a listing of the shm objects once per new fleet, never per ring.
 */
static int fleet_split_check(const orbit_fleet_t *fleet, const char *leases_name)
{
	char prefix[FLEET_SHM_NAME_MAX];

	if (lease_table_exists(leases_name))
		return 0;
	snprintf(prefix, sizeof(prefix), "/orbit-%s-%s-", fleet->name, table_words[0]);
	return lease_tables_shared(prefix, split_found, (void *)fleet);
}

/*
 * Members of the group create nothing (the objects would be theirs, not the owner's), and
 * the contest's subjects and the bell table are otherwise made on first use: the owner of
 * a fleet its group may write makes them with the lease table, so that members can claim
 * and poll.
 */
static int fleet_group_tables(const orbit_fleet_t *fleet, struct lease_table *table)
{
	void *slots;
	int ret;

	if (!fleet->shared || fleet_uid(fleet) != geteuid() || !(fleet->config.mode & 0060))
		return 0;
	ret = lease_subjects(table, &slots);
	return ret < 0 ? ret : bell_table_map(fleet->bells);
}

/* Called with create_lock held. */
static int fleet_leases_open(orbit_fleet_t *fleet)
{
	char name[FLEET_SHM_NAME_MAX], subjects[FLEET_SHM_NAME_MAX], bells[FLEET_SHM_NAME_MAX];
	struct lease_table *table;
	int ret;

	if (atomic_load_explicit(&fleet->leases, memory_order_relaxed))
		return 0;
	table_name(fleet, table_words[0], name, sizeof(name));
	table_name(fleet, table_words[1], subjects, sizeof(subjects));
	table_name(fleet, table_words[2], bells, sizeof(bells));
	if (fleet->shared && fleet_uid(fleet) == geteuid()) {
		ret = fleet_split_check(fleet, name);
		if (ret < 0)
			return ret;
	}
	ret = lease_table_open(fleet->shared ? name : NULL, fleet->shared ? subjects : NULL,
			       fleet_uid(fleet), fleet->config.mode, fleet->node, &table);
	if (ret < 0)
		return ret;
	ret = bell_table_open(fleet->shared ? bells : NULL, fleet_uid(fleet), fleet->config.mode,
			      table, &fleet->bells);
	if (ret == 0)
		ret = fleet_group_tables(fleet, table);
	if (ret < 0) {
		bell_table_close(fleet->bells);
		fleet->bells = NULL;
		lease_table_close(table);
		return ret;
	}
	/* Release: pairs with the acquire load in fleet_leases(). */
	atomic_store_explicit(&fleet->leases, table, memory_order_release);
	return 0;
}

struct lease_table *fleet_leases(orbit_fleet_t *fleet)
{
	struct lease_table *table = atomic_load_explicit(&fleet->leases, memory_order_acquire);

	if (table)
		return table;
	pthread_mutex_lock(&fleet->create_lock);
	if (fleet_leases_open(fleet) < 0)
		orbit_log_debug("fleet %s: no lease table", fleet->name);
	pthread_mutex_unlock(&fleet->create_lock);
	return atomic_load_explicit(&fleet->leases, memory_order_acquire);
}

static int fleet_ring_create(orbit_fleet_t *fleet, uint8_t kind, orbit_ring_t **out)
{
	char name[FLEET_SHM_NAME_MAX];
	int ret = fleet_leases_open(fleet);
	struct ring_config config = {
		.kind = kind,
		.node = fleet->node,
		.capacity = fleet->config.capacity,
		.payload_max = fleet->config.payload_max,
		.mode = fleet->config.mode,
		.shm_name = NULL,
		.owner = fleet_uid(fleet),
		.leases = atomic_load_explicit(&fleet->leases, memory_order_relaxed),
		.bells = fleet->bells,
		.stall_ns = fleet->config.stall_ns,
	};

	if (ret < 0)
		return ret;
	if (fleet->shared) {
		segment_name(fleet->name, kind, fleet_uid(fleet), name, sizeof(name));
		config.shm_name = name;
	}
	return ring_open(&config, out);
}

ORBIT_EXPORT int orbit_fleet_ring(orbit_fleet_t *fleet, uint8_t kind, orbit_ring_t **ring)
{
	orbit_ring_t *found;
	int ret = 0;

	if (!fleet || !ring)
		return ORBIT_INVALID("orbit_fleet_ring: %s is NULL", fleet ? "ring" : "fleet");
	/* Acquire: pairs with the release store below, so the ring is seen fully built. */
	found = atomic_load_explicit(&fleet->rings[kind], memory_order_acquire);
	if (found) {
		*ring = found;
		return 0;
	}
	pthread_mutex_lock(&fleet->create_lock);
	found = atomic_load_explicit(&fleet->rings[kind], memory_order_relaxed);
	if (!found) {
		ret = fleet_ring_create(fleet, kind, &found);
		if (ret == 0)
			atomic_store_explicit(&fleet->rings[kind], found, memory_order_release);
	}
	pthread_mutex_unlock(&fleet->create_lock);
	if (ret == 0)
		*ring = found;
	return ret;
}

/* The narrowest fleet mode that grants everything a segment's bits grant. */
static int fleet_mode_covering(uint32_t bits, uint32_t *mode)
{
	for (size_t i = 0; i < ORBIT_ARRAY_SIZE(fleet_modes); i++) {
		if (!(bits & ~fleet_modes[i])) {
			*mode = fleet_modes[i];
			return 0;
		}
	}
	return -EACCES;
}

ORBIT_EXPORT int orbit_fleet_probe(const char *name, uint8_t kind, orbit_fleet_options_t *opts)
{
	char shm_name[FLEET_SHM_NAME_MAX];
	struct ring_config found = { .kind = kind, .owner = geteuid() };
	uint32_t mode;
	int ret;

	ret = fleet_name_check("orbit_fleet_probe", name);
	if (ret < 0)
		return ret;
	if (!opts)
		return ORBIT_INVALID("orbit_fleet_probe: opts is NULL");
	if (opts->size < sizeof(opts->size))
		return ORBIT_INVALID("orbit_fleet_probe: opts->size %zu is below sizeof(size_t)",
				     opts->size);
	/* Read, never written: the caller joins with the same options it probed with. */
	if ((OPTS_GET(opts, flags) & ORBIT_FLEET_OWNER) && OPTS_HAS(opts, owner))
		found.owner = opts->owner;
	segment_name(name, kind, found.owner, shm_name, sizeof(shm_name));
	ret = ring_probe(shm_name, &found);
	if (ret < 0)
		return ret;
	if (found.capacity > FLEET_MAX_CAPACITY || found.payload_max > FLEET_MAX_PAYLOAD)
		return -EPROTO;
	ret = fleet_mode_covering(found.mode, &mode);
	if (ret < 0)
		return ret;
	OPTS_SET(opts, capacity, found.capacity);
	OPTS_SET(opts, payload_max, found.payload_max);
	OPTS_SET(opts, mode, mode);
	return 0;
}
