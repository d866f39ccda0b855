/* SPDX-License-Identifier: MIT */
/*
 * liborbit: same-host coordination between sibling processes through
 * lock-free rings of small frames in POSIX shared memory.
 *
 * Conventions, for every call below unless its comment says otherwise:
 *  - An int-returning call returns 0 (or a count) on success and a negative
 *    errno on failure; it never aborts, and never sets errno for the caller.
 *    ORBIT_DEBUG=1 in the environment makes the library say why on stderr.
 *  - An out-pointer is written only on success.
 *  - A "ring kind" (0..255) names one ring of a fleet; a "frame kind" is a
 *    message class a writer stamps on each frame inside a ring. Parameters
 *    say which: kind / subject_kind for rings, frame_kind for frames.
 *  - Handles are process-local: a fleet handle is not a shared object, and
 *    two handles of one fleet share only its segments.
 * orbit(7) describes the model, the segment layouts and the guarantees; every
 * call has its own page, named in its comment.
 */
#ifndef ORBIT_H
#define ORBIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ORBIT_VERSION_MAJOR 1
#define ORBIT_VERSION_MINOR 5
#define ORBIT_VERSION_PATCH 0

/* Since 1.3: the header's version as one number, and a test for "at least this version". */
#define ORBIT_VERSION_NUMBER \
	((ORBIT_VERSION_MAJOR << 16) | (ORBIT_VERSION_MINOR << 8) | ORBIT_VERSION_PATCH)
#define ORBIT_CHECK_VERSION(major, minor, patch) \
	(ORBIT_VERSION_NUMBER >= (((major) << 16) | ((minor) << 8) | (patch)))

/* The version of the loaded library, "1.5.0": a static string. orbit_version(3). */
const char *orbit_version(void);

/* ---- Ids ---------------------------------------------------------------------- */

/* NetId64: [KIND:8][NODE:16][COUNTER:40]; text form "kind:node:counter". */
typedef uint64_t orbit_id_t;

/* Since 1.3: bytes orbit_id_format needs for any id, NUL included ("255:65535:1099511627775"). */
#define ORBIT_ID_STRLEN 24

/* Pure functions: build an id (counter keeps its low 40 bits) and take it apart.
 * orbit_id_make(3). */
orbit_id_t orbit_id_make(uint8_t kind, uint16_t node, uint64_t counter);
uint8_t orbit_id_kind(orbit_id_t id);
uint16_t orbit_id_node(orbit_id_t id);
uint64_t orbit_id_counter(orbit_id_t id);
/* Text form into buf: the length without the NUL, or -ENOSPC. orbit_id_format(3). */
int orbit_id_format(orbit_id_t id, char *buf, size_t size);
/* "kind:node:counter", decimal, nothing else: 0 or -EINVAL. orbit_id_format(3). */
int orbit_id_parse(const char *text, orbit_id_t *id);

/* ---- Fleets ------------------------------------------------------------------- */

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

/*
 * The payload_max that selects layout 1, the orbit-rs 0.1 segment (0 asks for it too);
 * every other size gives layout 2 (since 1.5). orbit_fleet_join(3).
 */
#define ORBIT_LAYOUT1_PAYLOAD 256u

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

/*
 * A new handle on fleet `name` as `node` of `size` nodes, in this process only
 * (orbit_fleet_join) or in shared memory (orbit_fleet_join_shm); opts may be NULL
 * for the defaults. Rings open on first use. The handle is the caller's, to free
 * with orbit_fleet_leave; calls on it are thread-safe. orbit_fleet_join(3).
 */
int orbit_fleet_join(const char *name, uint16_t node, uint16_t size,
		     const orbit_fleet_options_t *opts, orbit_fleet_t **fleet);
int orbit_fleet_join_shm(const char *name, uint16_t node, uint16_t size,
			 const orbit_fleet_options_t *opts, orbit_fleet_t **fleet);
/* Frees the handle and its rings; the segments stay. Close the caches, event buses and
 * guards opened on it first; no other thread may use it during or after the call. NULL
 * is a no-op. orbit_fleet_leave(3). */
void orbit_fleet_leave(orbit_fleet_t *fleet);
/* Removes the fleet's segment names (those its owner owns): the count of ring names
 * removed. Mapped segments stay usable. orbit_fleet_unlink(3). */
int orbit_fleet_unlink(orbit_fleet_t *fleet);
/* The handle's name (owned by the handle), node and size; NULL or 0 for a NULL fleet.
 * orbit_fleet_name(3). */
const char *orbit_fleet_name(const orbit_fleet_t *fleet);
uint16_t orbit_fleet_node(const orbit_fleet_t *fleet);
uint16_t orbit_fleet_size(const orbit_fleet_t *fleet);
/* 1 for a shared-memory fleet, 0 for a process-local one, -EINVAL for NULL. */
int orbit_fleet_is_shared(const orbit_fleet_t *fleet);
/* The ring of ring kind `kind`, opened (or created) once per handle and owned by it:
 * never freed by the caller. Thread-safe. orbit_fleet_ring(3). */
int orbit_fleet_ring(orbit_fleet_t *fleet, uint8_t kind, orbit_ring_t **ring);

/* LIBORBIT_1.1: the options that join a fleet's existing ring segment of a kind, read
 * from its header without joining (opts->flags and owner say whose). orbit_fleet_probe(3). */
int orbit_fleet_probe(const char *name, uint8_t kind, orbit_fleet_options_t *opts);

/* ---- Rings -------------------------------------------------------------------- */

typedef struct orbit_frame {
	orbit_id_t id; /* kind = ring kind, node = writer, counter = position */
	uint64_t ver;  /* caller's version / tick */
	uint32_t len;  /* payload length (may exceed the caller's buffer) */
	uint8_t kind;  /* frame (message-class) kind */
} orbit_frame_t;

/*
 * Appends a frame (len <= payload_max, else -EMSGSIZE) and its id to *id (id may be
 * NULL). No system call while nobody waits. Any number of threads and processes may
 * write at once. orbit_ring_write(3).
 */
int orbit_ring_write(orbit_ring_t *ring, uint8_t frame_kind, uint64_t ver, const void *payload,
		     size_t len, orbit_id_t *id);
/*
 * Copy one frame: by id, the newest, or at a counter. -EAGAIN while it is being
 * written, -ENOENT when overwritten or never written, -EMSGSIZE (with *frame set)
 * when buf is smaller than the payload. Never modify the ring. orbit_ring_read(3).
 */
int orbit_ring_read(orbit_ring_t *ring, orbit_id_t id, orbit_frame_t *frame, void *buf,
		    size_t size);
int orbit_ring_read_head(orbit_ring_t *ring, orbit_frame_t *frame, void *buf, size_t size);
int orbit_ring_read_at(orbit_ring_t *ring, uint64_t counter, orbit_frame_t *frame, void *buf,
		       size_t size);
/*
 * The frame at *cursor, advancing it; frames the ring lost on the way are added to
 * *lost. -EAGAIN when nothing is there yet. A cursor is the caller's: one per thread.
 * orbit_ring_next(3).
 */
int orbit_ring_next(orbit_ring_t *ring, uint64_t *cursor, orbit_frame_t *frame, void *buf,
		    size_t size, uint64_t *lost);
/* Sleeps until the head passes cursor: 0, -ETIMEDOUT, -EINTR or -ECANCELED; timeout_ms
 * -1 waits without limit, 0 only checks. orbit_ring_wait(3). */
int orbit_ring_wait(orbit_ring_t *ring, uint64_t cursor, int timeout_ms);
/* Snapshots and geometry of a ring; 0 for a NULL ring. orbit_ring_head(3). */
uint64_t orbit_ring_head(const orbit_ring_t *ring);
uint8_t orbit_ring_kind(const orbit_ring_t *ring);
uint32_t orbit_ring_capacity(const orbit_ring_t *ring);
uint32_t orbit_ring_payload_max(const orbit_ring_t *ring);
/* Empties a ring nothing else uses: not thread- nor process-safe. orbit_ring_reset(3). */
int orbit_ring_reset(orbit_ring_t *ring);

/* ---- Event loops -------------------------------------------------------------- */

/*
 * LIBORBIT_1.3: waiting without polling. orbit_ring_follow() is orbit_ring_next() that
 * sleeps while nothing is at the cursor (-ETIMEDOUT after timeout_ms, -1 = never).
 * orbit_ring_follow(3).
 */
int orbit_ring_follow(orbit_ring_t *ring, uint64_t *cursor, orbit_frame_t *frame, void *buf,
		      size_t size, uint64_t *lost, int timeout_ms);
/*
 * A descriptor for poll, epoll or select, owned by the ring (never close it), that is
 * readable while the cursor last given to orbit_ring_arm() has a frame or a loss to
 * deliver. One armed cursor per ring handle. orbit_ring_fd(3).
 */
int orbit_ring_fd(orbit_ring_t *ring);
int orbit_ring_arm(orbit_ring_t *ring, uint64_t cursor);
/* With on not 0, this process's waits and follows on this ring handle return -ECANCELED,
 * now and later, until called with on = 0. Safe from any thread and from a signal
 * handler. orbit_ring_interrupt(3). */
int orbit_ring_interrupt(orbit_ring_t *ring, int on);

/* ---- Batches ------------------------------------------------------------------ */

/* LIBORBIT_1.4: one frame of a batch to write. */
typedef struct orbit_msg {
	const void *payload; /* NULL only when len is 0 */
	size_t len;	     /* <= the ring's payload_max */
	uint64_t ver;	     /* caller's version / tick */
	uint8_t kind;	     /* frame (message-class) kind */
} orbit_msg_t;

/*
 * Writes msgs[0..count) on consecutive counters with one claim (at most the ring's
 * capacity of them) and the first one's id to *first (may be NULL). The number written:
 * fewer than count when the ring's capacity cut the batch, or when msgs[n] could not be
 * written (it and the rest are given up); a negative errno when none was, and before
 * anything is written if any message is invalid. orbit_ring_write_batch(3).
 */
int orbit_ring_write_batch(orbit_ring_t *ring, const orbit_msg_t *msgs, size_t count,
			   orbit_id_t *first);
/*
 * orbit_ring_next() for up to count frames at once: frames[i] and its payload at
 * bufs + i * stride (stride bytes). The number delivered, or what orbit_ring_next()
 * would return for the first. orbit_ring_next_batch(3).
 */
int orbit_ring_next_batch(orbit_ring_t *ring, uint64_t *cursor, orbit_frame_t *frames, void *bufs,
			  size_t stride, size_t count, uint64_t *lost);

/* ---- Substrates: values, cache, events, contest, heartbeats --------------------- */

/* Substrates: ring kinds reserved by the orbit-rs 0.1 wire format. */
#define ORBIT_KIND_CACHE     200
#define ORBIT_KIND_EVENTS    220
#define ORBIT_KIND_HEARTBEAT 221
#define ORBIT_KIND_CONTEST   222

/* The newest value of a fixed-size type in ring `kind`: store one, load the newest
 * (value is written only on success). orbit_value_store(3). */
int orbit_value_store(orbit_fleet_t *fleet, uint8_t kind, const void *value, size_t size);
int orbit_value_load(orbit_fleet_t *fleet, uint8_t kind, void *value, size_t size);

typedef struct orbit_cache orbit_cache_t;

/* A handle on the key/value cache in ring `kind` (ORBIT_KIND_CACHE by convention),
 * the caller's to close; calls on it are thread-safe. orbit_cache_open(3). */
int orbit_cache_open(orbit_fleet_t *fleet, uint8_t kind, orbit_cache_t **cache);
void orbit_cache_close(orbit_cache_t *cache);
/* Put (ttl_ms 0 = no expiry), delete, or delete every key with a prefix; nothing is
 * written on error. orbit_cache_put(3). */
int orbit_cache_put(orbit_cache_t *cache, const void *key, size_t key_len, const void *value,
		    size_t value_len, uint64_t ttl_ms);
/* The newest live value of key into buf: 0, -ENOENT on a miss, -EMSGSIZE (with
 * *value_len set) when buf is too small. orbit_cache_get(3). */
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

/* A handle on the event bus in ring `kind` (ORBIT_KIND_EVENTS by convention), the
 * caller's to close; calls on it are thread-safe. orbit_events_open(3). */
int orbit_events_open(orbit_fleet_t *fleet, uint8_t kind, orbit_events_t **events);
void orbit_events_close(orbit_events_t *events);
/* One event: topic 1..255 bytes; nothing is written on error. orbit_events_publish(3). */
int orbit_events_publish(orbit_events_t *events, const char *topic, const void *payload,
			 size_t len);
/* Starting cursors: after the newest event, or at the oldest retained. orbit_events_head(3). */
uint64_t orbit_events_head(orbit_events_t *events);
uint64_t orbit_events_oldest(orbit_events_t *events);
/* The next event at *cursor on topic (NULL: any), advancing it; events the ring lost
 * grow *lagged. -EAGAIN when there is none yet; never sleeps. orbit_events_poll(3). */
int orbit_events_poll(orbit_events_t *events, uint64_t *cursor, const char *topic,
		      orbit_event_t *event, void *buf, size_t size, uint64_t *lagged);
/* Sleeps until the bus moves past cursor, as orbit_ring_wait. orbit_events_wait(3). */
int orbit_events_wait(orbit_events_t *events, uint64_t cursor, int timeout_ms);
/* LIBORBIT_1.3: as the orbit_ring_ calls of the same names, for one subscriber.
 * orbit_events_follow(3), orbit_events_fd(3), orbit_events_interrupt(3). */
int orbit_events_follow(orbit_events_t *events, uint64_t *cursor, const char *topic,
			orbit_event_t *event, void *buf, size_t size, uint64_t *lagged,
			int timeout_ms);
int orbit_events_fd(orbit_events_t *events);
int orbit_events_arm(orbit_events_t *events, uint64_t cursor);
int orbit_events_interrupt(orbit_events_t *events, int on);

typedef struct orbit_guard orbit_guard_t;

/*
 * Claims (subject_kind, label) for this node for ttl_ms: 0 with a guard the caller
 * releases, or -EBUSY with the holder's node in *holder. A guard belongs to the
 * claiming process. Lock-free; thread-safe. orbit_contest_claim(3).
 */
int orbit_contest_claim(orbit_fleet_t *fleet, uint8_t subject_kind, const char *label,
			const char *owner, uint64_t ttl_ms, orbit_guard_t **guard,
			uint16_t *holder);
/* Which node holds the subject now: 0 with *holder, -ENOENT if nobody. Never claims.
 * orbit_contest_holder(3). */
int orbit_contest_holder(orbit_fleet_t *fleet, uint8_t subject_kind, const char *label,
			 uint16_t *holder);
/* Extends a held lease; -ESTALE once it was lost. One thread per guard. orbit_guard_renew(3). */
int orbit_guard_renew(orbit_guard_t *guard, uint64_t ttl_ms);
/* The lease's fencing token (at least 1; 0 for NULL): larger for every new holder.
 * orbit_guard_token(3). */
uint64_t orbit_guard_token(const orbit_guard_t *guard);
/* Ends the lease and frees the guard, in every case; NULL is a no-op.
 * orbit_guard_release(3). */
int orbit_guard_release(orbit_guard_t *guard);

#define ORBIT_MEMBER_MISSING 0
#define ORBIT_MEMBER_ALIVE   1
#define ORBIT_MEMBER_STALE   2

typedef struct orbit_member {
	uint16_t node;
	uint8_t state;	       /* ORBIT_MEMBER_* */
	uint64_t last_beat_ms; /* Unix ms of the newest beat; 0 when missing */
} orbit_member_t;

/* One beat of this node on ring ORBIT_KIND_HEARTBEAT. orbit_heartbeat(3). */
int orbit_heartbeat(orbit_fleet_t *fleet);
/* Every node's state (alive: beat within max_age_ms and its processes live) into
 * members[0..count): returns the fleet's size. orbit_heartbeat_snapshot(3). */
int orbit_heartbeat_snapshot(orbit_fleet_t *fleet, uint64_t max_age_ms, orbit_member_t *members,
			     size_t count);

#ifdef __cplusplus
}
#endif

#endif /* ORBIT_H */
