/* SPDX-License-Identifier: MIT */
/*
 * liborbit: same-host coordination between sibling processes through
 * lock-free rings of small frames in POSIX shared memory.
 *
 * Every int-returning call returns 0 (or a count) on success and a negative
 * errno on failure. See orbit(7) for the model and one page per call.
 */
#ifndef ORBIT_H
#define ORBIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ORBIT_VERSION_MAJOR 1
#define ORBIT_VERSION_MINOR 3
#define ORBIT_VERSION_PATCH 0

const char *orbit_version(void);

/* NetId64: [KIND:8][NODE:16][COUNTER:40]; text form "kind:node:counter". */
typedef uint64_t orbit_id_t;

orbit_id_t orbit_id_make(uint8_t kind, uint16_t node, uint64_t counter);
uint8_t orbit_id_kind(orbit_id_t id);
uint16_t orbit_id_node(orbit_id_t id);
uint64_t orbit_id_counter(orbit_id_t id);
int orbit_id_format(orbit_id_t id, char *buf, size_t size);
int orbit_id_parse(const char *text, orbit_id_t *id);

typedef struct orbit_fleet orbit_fleet_t;
typedef struct orbit_ring orbit_ring_t;

typedef struct orbit_fleet_options {
	size_t size;	      /* sizeof(orbit_fleet_options_t), set by ORBIT_FLEET_OPTIONS_INIT */
	uint32_t capacity;    /* slots per ring, power of two >= 2; 0 = 1024 */
	uint32_t payload_max; /* payload bytes per slot; 0 or 256 = layout 1, else layout 2 */
	uint32_t mode;	      /* permissions of new segments: 0 = 0600; 0640 and 0660 allowed */
	uint32_t flags;	      /* ORBIT_FLEET_*; other bits must be 0 */
	uint32_t stall_ms;    /* how long a claim no liveness record names may hold others up;
				 0 = 200 (since 1.2) */
	uint32_t owner;	      /* with ORBIT_FLEET_OWNER: uid whose fleet to join (since 1.3) */
} orbit_fleet_options_t;

/* flags: join the fleet of user `owner` instead of the caller's own (since 1.3). */
#define ORBIT_FLEET_OWNER 0x1u

#ifdef __cplusplus
#define ORBIT_FLEET_OPTIONS_INIT                                \
	{                                                       \
		sizeof(orbit_fleet_options_t), 0, 0, 0, 0, 0, 0 \
	}
#else
#define ORBIT_FLEET_OPTIONS_INIT                      \
	{                                             \
		.size = sizeof(orbit_fleet_options_t) \
	}
#endif

int orbit_fleet_join(const char *name, uint16_t node, uint16_t size,
		     const orbit_fleet_options_t *opts, orbit_fleet_t **fleet);
int orbit_fleet_join_shm(const char *name, uint16_t node, uint16_t size,
			 const orbit_fleet_options_t *opts, orbit_fleet_t **fleet);
void orbit_fleet_leave(orbit_fleet_t *fleet);
int orbit_fleet_unlink(orbit_fleet_t *fleet);
const char *orbit_fleet_name(const orbit_fleet_t *fleet);
uint16_t orbit_fleet_node(const orbit_fleet_t *fleet);
uint16_t orbit_fleet_size(const orbit_fleet_t *fleet);
int orbit_fleet_is_shared(const orbit_fleet_t *fleet);
int orbit_fleet_ring(orbit_fleet_t *fleet, uint8_t kind, orbit_ring_t **ring);

/* LIBORBIT_1.1: the options that join a fleet's existing ring segment of a kind. */
int orbit_fleet_probe(const char *name, uint8_t kind, orbit_fleet_options_t *opts);

typedef struct orbit_frame {
	orbit_id_t id; /* kind = ring kind, node = writer, counter = position */
	uint64_t ver;  /* caller's version / tick */
	uint32_t len;  /* payload length (may exceed the caller's buffer) */
	uint8_t kind;  /* frame (message-class) kind */
} orbit_frame_t;

int orbit_ring_write(orbit_ring_t *ring, uint8_t frame_kind, uint64_t ver, const void *payload,
		     size_t len, orbit_id_t *id);
int orbit_ring_read(orbit_ring_t *ring, orbit_id_t id, orbit_frame_t *frame, void *buf,
		    size_t size);
int orbit_ring_read_head(orbit_ring_t *ring, orbit_frame_t *frame, void *buf, size_t size);
int orbit_ring_read_at(orbit_ring_t *ring, uint64_t counter, orbit_frame_t *frame, void *buf,
		       size_t size);
int orbit_ring_next(orbit_ring_t *ring, uint64_t *cursor, orbit_frame_t *frame, void *buf,
		    size_t size, uint64_t *lost);
int orbit_ring_wait(orbit_ring_t *ring, uint64_t cursor, int timeout_ms);
uint64_t orbit_ring_head(const orbit_ring_t *ring);
uint8_t orbit_ring_kind(const orbit_ring_t *ring);
uint32_t orbit_ring_capacity(const orbit_ring_t *ring);
uint32_t orbit_ring_payload_max(const orbit_ring_t *ring);
int orbit_ring_reset(orbit_ring_t *ring);

/*
 * LIBORBIT_1.3: waiting without polling. orbit_ring_follow() is orbit_ring_next() that
 * sleeps while nothing is at the cursor. orbit_ring_fd() is a descriptor for poll,
 * epoll or select that turns readable once orbit_ring_arm()'s cursor has a frame (or a
 * loss) to deliver; orbit_ring_interrupt() makes this process's waits on the ring return
 * -ECANCELED.
 */
int orbit_ring_follow(orbit_ring_t *ring, uint64_t *cursor, orbit_frame_t *frame, void *buf,
		      size_t size, uint64_t *lost, int timeout_ms);
int orbit_ring_fd(orbit_ring_t *ring);
int orbit_ring_arm(orbit_ring_t *ring, uint64_t cursor);
int orbit_ring_interrupt(orbit_ring_t *ring, int on);

/* Substrates: ring kinds reserved by the orbit-rs 0.1 wire format. */
#define ORBIT_KIND_CACHE     200
#define ORBIT_KIND_EVENTS    220
#define ORBIT_KIND_HEARTBEAT 221
#define ORBIT_KIND_CONTEST   222

int orbit_value_store(orbit_fleet_t *fleet, uint8_t kind, const void *value, size_t size);
int orbit_value_load(orbit_fleet_t *fleet, uint8_t kind, void *value, size_t size);

typedef struct orbit_cache orbit_cache_t;

int orbit_cache_open(orbit_fleet_t *fleet, uint8_t kind, orbit_cache_t **cache);
void orbit_cache_close(orbit_cache_t *cache);
int orbit_cache_put(orbit_cache_t *cache, const void *key, size_t key_len, const void *value,
		    size_t value_len, uint64_t ttl_ms);
int orbit_cache_get(orbit_cache_t *cache, const void *key, size_t key_len, void *buf, size_t size,
		    size_t *value_len);
int orbit_cache_delete(orbit_cache_t *cache, const void *key, size_t key_len);
int orbit_cache_reset(orbit_cache_t *cache, const void *prefix, size_t prefix_len);

typedef struct orbit_events orbit_events_t;

typedef struct orbit_event {
	orbit_id_t id;	       /* publisher = orbit_id_node(id) */
	uint64_t timestamp_ms; /* publisher's clock, Unix ms */
	uint32_t topic_len;
	uint32_t len;	 /* payload length (may exceed the caller's buffer) */
	char topic[256]; /* NUL-terminated; topics are 1..255 bytes */
} orbit_event_t;

int orbit_events_open(orbit_fleet_t *fleet, uint8_t kind, orbit_events_t **events);
void orbit_events_close(orbit_events_t *events);
int orbit_events_publish(orbit_events_t *events, const char *topic, const void *payload,
			 size_t len);
uint64_t orbit_events_head(orbit_events_t *events);
uint64_t orbit_events_oldest(orbit_events_t *events);
int orbit_events_poll(orbit_events_t *events, uint64_t *cursor, const char *topic,
		      orbit_event_t *event, void *buf, size_t size, uint64_t *lagged);
int orbit_events_wait(orbit_events_t *events, uint64_t cursor, int timeout_ms);
/* LIBORBIT_1.3: as the orbit_ring_ calls of the same names, for one subscriber. */
int orbit_events_follow(orbit_events_t *events, uint64_t *cursor, const char *topic,
			orbit_event_t *event, void *buf, size_t size, uint64_t *lagged,
			int timeout_ms);
int orbit_events_fd(orbit_events_t *events);
int orbit_events_arm(orbit_events_t *events, uint64_t cursor);
int orbit_events_interrupt(orbit_events_t *events, int on);

typedef struct orbit_guard orbit_guard_t;

int orbit_contest_claim(orbit_fleet_t *fleet, uint8_t subject_kind, const char *label,
			const char *owner, uint64_t ttl_ms, orbit_guard_t **guard,
			uint16_t *holder);
int orbit_contest_holder(orbit_fleet_t *fleet, uint8_t subject_kind, const char *label,
			 uint16_t *holder);
int orbit_guard_renew(orbit_guard_t *guard, uint64_t ttl_ms);
uint64_t orbit_guard_token(const orbit_guard_t *guard);
int orbit_guard_release(orbit_guard_t *guard);

#define ORBIT_MEMBER_MISSING 0
#define ORBIT_MEMBER_ALIVE   1
#define ORBIT_MEMBER_STALE   2

typedef struct orbit_member {
	uint16_t node;
	uint8_t state;	       /* ORBIT_MEMBER_* */
	uint64_t last_beat_ms; /* Unix ms of the newest beat; 0 when missing */
} orbit_member_t;

int orbit_heartbeat(orbit_fleet_t *fleet);
int orbit_heartbeat_snapshot(orbit_fleet_t *fleet, uint64_t max_age_ms, orbit_member_t *members,
			     size_t count);

#ifdef __cplusplus
}
#endif

#endif /* ORBIT_H */
