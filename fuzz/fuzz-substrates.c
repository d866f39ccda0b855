/* SPDX-License-Identifier: MIT */
/*
 * Every substrate decoder over any frame: an input is a run of operations by two nodes of
 * one shm fleet that mixes raw frames (any frame kind, ver and payload, written straight
 * onto a substrate's ring) with the substrates' own calls. Decoders must pass over what
 * they cannot read and never crash; every call keeps its man page's promises (results,
 * and what it leaves untouched on error); and what a node has just written through a
 * substrate reads back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-util.h"
#include "inputs.h"
#include "names.h"

#define FLEET_SIZE_MAX 4
#define JOINED	       2 /* nodes 0 and 1 act; the others are members that never beat */
#define GUARDS	       4
#define OPS_MAX	       64
/* A frame written with a TTL this long cannot expire before the run reads it back. */
#define TTL_LONG_MS    (3600ull * 1000)
#define NAME_MAX_BYTES 255
#define BUFFER_MAX     1100

struct run {
	char name[64];
	uint16_t size;
	uint32_t capacity;
	uint32_t payload_max;
	orbit_fleet_t *fleets[JOINED];
	orbit_cache_t *caches[JOINED];
	orbit_events_t *events[JOINED];
	uint64_t cursors[JOINED];
	orbit_guard_t *guards[GUARDS];
};

/* The bytes as a string: up to the first NUL, at most max. */
static char *string_of(const uint8_t *bytes, size_t len, size_t max)
{
	size_t n = strnlen((const char *)bytes, len < max ? len : max);
	char *text = malloc(n + 1);

	if (!text)
		abort();
	memcpy(text, bytes, n);
	text[n] = '\0';
	return text;
}

static void expect_cached(orbit_cache_t *cache, const struct substrate_op_input *op)
{
	uint8_t *buf = fuzz_buffer(op->b_len);
	size_t value_len = SIZE_MAX;
	int r = orbit_cache_get(cache, op->a, op->a_len, buf, op->b_len, &value_len);

	FUZZ_CHECK(r == 0 && value_len == op->b_len &&
			   (!op->b_len || !memcmp(buf, op->b, op->b_len)),
		   "a put does not read back: %d, %zu of %zu bytes", r, value_len, op->b_len);
	free(buf);
}

static void expect_miss(orbit_cache_t *cache, const uint8_t *key, size_t key_len)
{
	size_t value_len = SIZE_MAX;
	int r = orbit_cache_get(cache, key, key_len, NULL, 0, &value_len);

	FUZZ_CHECK(r == -ENOENT && value_len == SIZE_MAX, "a deleted or reset key: get = %d", r);
}

/* What a call that writes a frame of `need` bytes returns: -EINVAL for a missing argument,
 * -EMSGSIZE when the frame cannot fit a slot (nothing written), else 0. */
static int frame_expected(const struct run *run, bool invalid, size_t need)
{
	if (invalid)
		return -EINVAL;
	return need > run->payload_max ? -EMSGSIZE : 0;
}

static void op_cache(struct run *run, int node, const struct substrate_op_input *op)
{
	orbit_cache_t *cache = run->caches[node];
	int r;

	switch (op->op % OP_COUNT) {
	case OP_CACHE_PUT:
		r = orbit_cache_put(cache, op->a, op->a_len, op->b, op->b_len, op->num);
		FUZZ_CHECK(
			r == frame_expected(run, !op->a_len, CACHE_HEADER + op->a_len + op->b_len),
			"put = %d", r);
		if (r == 0 && (op->num == 0 || op->num >= TTL_LONG_MS))
			expect_cached(cache, op);
		break;
	case OP_CACHE_DELETE:
		r = orbit_cache_delete(cache, op->a, op->a_len);
		FUZZ_CHECK(r == frame_expected(run, !op->a_len, CACHE_HEADER + op->a_len),
			   "delete = %d", r);
		if (r == 0)
			expect_miss(cache, op->a, op->a_len);
		break;
	case OP_CACHE_RESET:
		r = orbit_cache_reset(cache, op->a, op->a_len);
		FUZZ_CHECK(r == frame_expected(run, false, CACHE_HEADER + op->a_len), "reset = %d",
			   r);
		if (r == 0 && op->a_len)
			expect_miss(cache, op->a, op->a_len);
		break;
	default: {
		size_t size = op->num % BUFFER_MAX, value_len = SIZE_MAX;
		uint8_t *buf = fuzz_buffer(size);

		r = orbit_cache_get(cache, op->a, op->a_len, buf, size, &value_len);
		FUZZ_CHECK(r == 0 || r == -ENOENT || r == -EMSGSIZE || (r == -EINVAL && !op->a_len),
			   "get = %d", r);
		/* orbit_cache_get(3): value_len is set on a hit and on -EMSGSIZE only; a value
		 * too long for buf leaves buf as it was. */
		if (r == 0)
			FUZZ_CHECK(value_len <= size, "hit of %zu into %zu", value_len, size);
		else if (r == -EMSGSIZE)
			FUZZ_CHECK(value_len > size && fuzz_untouched(buf, size), "-EMSGSIZE: %zu",
				   value_len);
		else
			FUZZ_CHECK(value_len == SIZE_MAX, "get = %d set value_len", r);
		free(buf);
		break;
	}
	}
}

/* What a poll delivered (0 or -EMSGSIZE) is an event: a topic of at most 255 bytes, a NUL. */
static void check_event(const orbit_event_t *event, const char *topic, size_t size, int r)
{
	FUZZ_CHECK(event->topic_len <= NAME_MAX_BYTES && event->topic[event->topic_len] == '\0');
	FUZZ_CHECK(!topic || (event->topic_len == strlen(topic) && !strcmp(event->topic, topic)));
	FUZZ_CHECK((r == -EMSGSIZE) == (event->len > size), "%d for len %u into %zu", r, event->len,
		   size);
}

static void expect_event(orbit_events_t *events, int node, const char *topic,
			 const struct substrate_op_input *op)
{
	uint64_t cursor = orbit_events_head(events) - 1, lagged = 0;
	uint8_t *buf = fuzz_buffer(op->b_len);
	orbit_event_t event;
	int r = orbit_events_poll(events, &cursor, topic, &event, buf, op->b_len, &lagged);

	FUZZ_CHECK(r == 0 && orbit_id_node(event.id) == node && event.len == op->b_len &&
			   (!op->b_len || !memcmp(buf, op->b, op->b_len)),
		   "a published event does not read back: %d", r);
	check_event(&event, topic, op->b_len, r);
	free(buf);
}

static void poll_all(struct run *run, int node, const char *topic, size_t size)
{
	uint8_t *buf = fuzz_buffer(size);
	bool bad_topic = topic && !*topic;

	for (uint32_t calls = 0; calls < run->capacity + 2; calls++) {
		uint64_t before = run->cursors[node], lagged = 0;
		orbit_event_t event;
		int r;

		memset(&event, FUZZ_UNTOUCHED, sizeof(event));
		if (size)
			memset(buf, FUZZ_UNTOUCHED, size);
		r = orbit_events_poll(run->events[node], &run->cursors[node], topic, &event, buf,
				      size, &lagged);
		FUZZ_CHECK(r == 0 || r == -EAGAIN || r == -EMSGSIZE || (r == -EINVAL && bad_topic),
			   "poll = %d", r);
		FUZZ_CHECK(run->cursors[node] >= before);
		if (r == 0 || r == -EMSGSIZE)
			check_event(&event, topic, size, r);
		else
			FUZZ_CHECK(fuzz_untouched(&event, sizeof(event)) &&
					   fuzz_untouched(buf, size),
				   "poll = %d wrote its event or buffer", r);
		if (r != 0)
			break;
	}
	free(buf);
}

static void op_events(struct run *run, int node, const struct substrate_op_input *op)
{
	char *topic = string_of(op->a, op->a_len, NAME_MAX_BYTES);
	size_t topic_len = strlen(topic);
	int r;

	if (op->op % OP_COUNT == OP_EVENTS_POLL) {
		poll_all(run, node, op->a_len ? topic : NULL, op->num % BUFFER_MAX);
		free(topic);
		return;
	}
	r = orbit_events_publish(run->events[node], topic, op->b, op->b_len);
	FUZZ_CHECK(r == frame_expected(run, !topic_len, EVENT_HEADER + topic_len + op->b_len),
		   "publish = %d", r);
	if (r == 0)
		expect_event(run->events[node], node, topic, op);
	free(topic);
}

static void guard_keep(struct run *run, uint8_t slot, orbit_guard_t *guard)
{
	orbit_guard_t **place = &run->guards[slot % GUARDS];

	if (*place)
		FUZZ_CHECK(orbit_guard_release(*place) == 0);
	*place = guard;
}

static void expect_holder(struct run *run, int node, uint8_t kind, const char *label)
{
	uint16_t holder = UINT16_MAX;
	int r = orbit_contest_holder(run->fleets[node], kind, label, &holder);

	FUZZ_CHECK(r == 0 && holder == node, "a fresh holder is not the holder: %d, node %u", r,
		   holder);
}

static void op_claim(struct run *run, int node, const struct substrate_op_input *op)
{
	char *label = string_of(op->a, op->a_len, NAME_MAX_BYTES);
	/* One byte past the limit, so owners that are too long reach the call. */
	char *owner = string_of(op->b, op->b_len, NAME_MAX_BYTES + 1);
	size_t label_len = strlen(label), owner_len = strlen(owner);
	orbit_guard_t *guard = NULL;
	uint16_t holder = UINT16_MAX;
	int expected = frame_expected(run, !label_len || owner_len > NAME_MAX_BYTES || !op->num,
				      CLAIM_HEADER + label_len + owner_len);
	int r = orbit_contest_claim(run->fleets[node], op->sel, label, owner, op->num, &guard,
				    &holder);

	/* A claim frame that fits may win, lose, find the table full of other subjects, or
	 * have its frame held up by a stalled ring writer. */
	FUZZ_CHECK(r == expected ||
			   (expected == 0 && (r == -EBUSY || r == -EAGAIN || r == -ENOSPC)),
		   "claim = %d, expected %d", r, expected);
	FUZZ_CHECK((r == 0) == (guard != NULL), "claim = %d, guard %p", r, (void *)guard);
	FUZZ_CHECK(r == -EBUSY ? holder < run->size : holder == UINT16_MAX, "claim = %d, holder %u",
		   r, holder);
	if (r == 0 && op->num >= TTL_LONG_MS)
		expect_holder(run, node, op->sel, label);
	if (r == 0)
		guard_keep(run, op->sub, guard);
	free(label);
	free(owner);
}

static void op_holder(struct run *run, int node, const struct substrate_op_input *op)
{
	char *label = string_of(op->a, op->a_len, NAME_MAX_BYTES);
	uint16_t holder = UINT16_MAX;
	int r = orbit_contest_holder(run->fleets[node], op->sel, label, &holder);

	FUZZ_CHECK(r == 0 || r == -ENOENT || (r == -EINVAL && !*label), "holder = %d", r);
	FUZZ_CHECK(r == 0 ? holder < run->size : holder == UINT16_MAX, "holder = %d, %u", r,
		   holder);
	free(label);
}

static void op_guard(struct run *run, const struct substrate_op_input *op)
{
	orbit_guard_t **place = &run->guards[op->sel % GUARDS];
	int r;

	if (!*place)
		return;
	if (op->sub & 1) {
		r = orbit_guard_renew(*place, op->num);
		FUZZ_CHECK(r == 0 || r == -ESTALE || (r == -EINVAL && !op->num), "renew = %d", r);
		return;
	}
	r = orbit_guard_release(*place);
	*place = NULL;
	FUZZ_CHECK(r == 0, "release = %d", r);
}

static void op_snapshot(struct run *run, int node, uint8_t count, uint64_t max_age_ms)
{
	orbit_member_t *members = (orbit_member_t *)fuzz_buffer(count * sizeof(*members));
	int r = orbit_heartbeat_snapshot(run->fleets[node], max_age_ms, members, count);

	if (count < run->size) {
		FUZZ_CHECK(r == -ENOSPC && fuzz_untouched(members, count * sizeof(*members)),
			   "snapshot = %d for %u entries", r, count);
	} else {
		FUZZ_CHECK(r == run->size, "snapshot = %d", r);
	}
	for (int i = 0; i < r; i++) {
		FUZZ_CHECK(members[i].node == i && members[i].state <= ORBIT_MEMBER_STALE);
		FUZZ_CHECK(members[i].state != ORBIT_MEMBER_MISSING || !members[i].last_beat_ms);
	}
	free(members);
}

static void op_heartbeat(struct run *run, int node)
{
	orbit_member_t members[FLEET_SIZE_MAX];

	FUZZ_CHECK(orbit_heartbeat(run->fleets[node]) == 0);
	FUZZ_CHECK(orbit_heartbeat_snapshot(run->fleets[node], UINT64_MAX, members,
					    FLEET_SIZE_MAX) == run->size);
	FUZZ_CHECK(members[node].state == ORBIT_MEMBER_ALIVE, "a node that just beat is %u",
		   members[node].state);
}

static void expect_value(struct run *run, int node, const struct substrate_op_input *op)
{
	uint8_t *buf = fuzz_buffer(op->b_len);
	int r = orbit_value_load(run->fleets[node], SUBSTRATE_VALUE_KIND, buf, op->b_len);

	FUZZ_CHECK(r == 0 && !memcmp(buf, op->b, op->b_len), "a stored value loads as %d", r);
	free(buf);
}

static void value_store(struct run *run, int node, const struct substrate_op_input *op)
{
	int r = orbit_value_store(run->fleets[node], SUBSTRATE_VALUE_KIND, op->b, op->b_len);

	FUZZ_CHECK(r == frame_expected(run, !op->b_len, op->b_len), "store = %d", r);
	if (r == 0)
		expect_value(run, node, op);
}

static void value_load(struct run *run, int node, size_t size)
{
	uint8_t *buf = fuzz_buffer(size);
	int r = orbit_value_load(run->fleets[node], SUBSTRATE_VALUE_KIND, buf, size);

	FUZZ_CHECK(r == 0 || r == -ENOENT || r == -EMSGSIZE || r == -EAGAIN ||
			   (r == -EINVAL && !size),
		   "load = %d", r);
	FUZZ_CHECK(r == 0 || fuzz_untouched(buf, size), "load = %d wrote its buffer", r);
	free(buf);
}

/* Any frame kind, ver and payload straight onto a substrate's ring (OP_RAW, OP_FRAME). */
static void op_raw(struct run *run, int node, const struct substrate_op_input *op, bool fit)
{
	uint8_t ring_kind = substrate_rings[op->sel % sizeof(substrate_rings)];
	uint8_t *payload = fuzz_buffer(op->b_len);
	uint64_t ver = fit ? op->num >> 16 : op->num;
	orbit_ring_t *ring;
	int r;

	if (op->b_len)
		memcpy(payload, op->b, op->b_len);
	if (fit)
		frame_fit(ring_kind, op->sub, payload, op->b_len, op->num & UINT16_MAX);
	FUZZ_CHECK(orbit_fleet_ring(run->fleets[node], ring_kind, &ring) == 0);
	r = orbit_ring_write(ring, op->sub, ver, payload, op->b_len, NULL);
	FUZZ_CHECK(r == frame_expected(run, false, op->b_len), "write = %d", r);
	free(payload);
}

static void run_op(struct run *run, const struct substrate_op_input *op)
{
	int node = op->node % JOINED;

	switch (op->op % OP_COUNT) {
	case OP_RAW:
	case OP_FRAME:
		op_raw(run, node, op, op->op % OP_COUNT == OP_FRAME);
		break;
	case OP_CACHE_PUT:
	case OP_CACHE_GET:
	case OP_CACHE_DELETE:
	case OP_CACHE_RESET:
		op_cache(run, node, op);
		break;
	case OP_EVENTS_PUBLISH:
	case OP_EVENTS_POLL:
		op_events(run, node, op);
		break;
	case OP_CLAIM:
		op_claim(run, node, op);
		break;
	case OP_HOLDER:
		op_holder(run, node, op);
		break;
	case OP_GUARD:
		op_guard(run, op);
		break;
	case OP_HEARTBEAT:
		op_heartbeat(run, node);
		break;
	case OP_SNAPSHOT:
		op_snapshot(run, node, op->sel % (FLEET_SIZE_MAX + 2), op->num);
		break;
	case OP_VALUE_STORE:
		value_store(run, node, op);
		break;
	default:
		value_load(run, node, op->num % (run->payload_max + 2));
		break;
	}
}

static void run_start(struct run *run, uint8_t geometry, uint8_t members)
{
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;

	ring_geometry(geometry, &opts.capacity, &opts.payload_max);
	run->capacity = opts.capacity;
	run->payload_max = opts.payload_max;
	run->size = JOINED + members % (FLEET_SIZE_MAX - JOINED + 1);
	test_fleet_name(run->name, sizeof(run->name), "fz-substrates");
	for (uint16_t node = 0; node < JOINED; node++) {
		FUZZ_CHECK(orbit_fleet_join_shm(run->name, node, run->size, &opts,
						&run->fleets[node]) == 0);
		FUZZ_CHECK(orbit_cache_open(run->fleets[node], ORBIT_KIND_CACHE,
					    &run->caches[node]) == 0);
		FUZZ_CHECK(orbit_events_open(run->fleets[node], ORBIT_KIND_EVENTS,
					     &run->events[node]) == 0);
	}
}

static void run_finish(struct run *run)
{
	for (int i = 0; i < GUARDS; i++)
		orbit_guard_release(run->guards[i]);
	for (int node = 0; node < JOINED; node++) {
		orbit_cache_close(run->caches[node]);
		orbit_events_close(run->events[node]);
		orbit_fleet_leave(run->fleets[node]);
	}
	for (size_t i = 0; i < sizeof(substrate_rings); i++)
		fuzz_unlink_segment(run->name, substrate_rings[i]);
	fuzz_unlink_tables(run->name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = fuzz_input_init(data, size);
	struct run run = { 0 };
	uint8_t geometry = fuzz_u8(&in);

	run_start(&run, geometry, fuzz_u8(&in));
	for (int i = 0; i < OPS_MAX && in.left; i++) {
		struct substrate_op_input op;

		substrate_op_take(&in, &op);
		run_op(&run, &op);
	}
	run_finish(&run);
	return 0;
}
