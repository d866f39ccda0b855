/* SPDX-License-Identifier: MIT */
/*
 * The event bus: topic-tagged events on one ring (orbit-rs 0.1 event frames) and
 * subscribers that each own a cursor and filter by topic. Written against the ring API,
 * but for one internal call: waiting until the frame at a cursor settles.
 */
#include <orbit.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "macro.h"
#include "ring.h"
#include "wire.h"

#define EVENT_FRAME	1
#define EVENT_HEADER	12 /* topic_len u16, payload_len u16, timestamp_ms u64 */
#define EVENT_TOPIC_MAX 255

/*
 * Frames up to this size are staged on the stack, so calls on a handle of a
 * default (256-byte) ring never contend; larger frames share the handle's buffer
 * under its lock rather than growing the stack or allocating on every call.
 */
#define EVENT_STACK_FRAME 1024

struct orbit_events {
	orbit_ring_t *ring;
	uint32_t payload_max;
	atomic_bool interrupted;   /* orbit_events_interrupt() */
	struct ring_poller poller; /* orbit_events_fd()'s */
	pthread_mutex_t lock;	   /* guards scratch */
	uint8_t scratch[];	   /* payload_max bytes, present only above EVENT_STACK_FRAME */
};

/* An event decoded in place: topic and payload point into the raw frame. */
struct event_view {
	uint64_t timestamp_ms;
	const uint8_t *topic;
	const uint8_t *payload;
	uint16_t topic_len;
	uint16_t len;
};

/* 0 and the topic's length, or -EINVAL and (under ORBIT_DEBUG) why, for call. */
static int topic_check(const char *call, const char *topic, size_t *len)
{
	if (!topic)
		return ORBIT_INVALID("%s: topic is NULL", call);
	*len = strnlen(topic, EVENT_TOPIC_MAX + 1);
	if (*len == 0)
		return ORBIT_INVALID("%s: topic is empty", call);
	if (*len > EVENT_TOPIC_MAX)
		return ORBIT_INVALID("%s: topic is longer than %u bytes", call, EVENT_TOPIC_MAX);
	return 0;
}

static uint8_t *frame_buffer_get(struct orbit_events *events, uint8_t *stack, size_t need)
{
	if (need <= EVENT_STACK_FRAME)
		return stack;
	pthread_mutex_lock(&events->lock);
	return events->scratch;
}

static void frame_buffer_put(struct orbit_events *events, const uint8_t *buf)
{
	if (buf == events->scratch)
		pthread_mutex_unlock(&events->lock);
}

ORBIT_EXPORT int orbit_events_open(orbit_fleet_t *fleet, uint8_t kind, orbit_events_t **events)
{
	struct orbit_events *ev;
	orbit_ring_t *ring;
	uint32_t payload_max;
	int ret;

	if (!fleet || !events)
		return ORBIT_INVALID("%s: %s is NULL", __func__, fleet ? "events" : "fleet");
	ret = orbit_fleet_ring(fleet, kind, &ring);
	if (ret < 0)
		return ret;
	payload_max = orbit_ring_payload_max(ring);
	ev = malloc(sizeof(*ev) + (payload_max > EVENT_STACK_FRAME ? payload_max : 0));
	if (!ev)
		return -ENOMEM;
	ev->ring = ring;
	ev->payload_max = payload_max;
	atomic_init(&ev->interrupted, false);
	ring_poller_init(&ev->poller);
	pthread_mutex_init(&ev->lock, NULL);
	*events = ev;
	return 0;
}

ORBIT_EXPORT void orbit_events_close(orbit_events_t *events)
{
	if (!events)
		return;
	ring_poller_close(events->ring, &events->poller);
	pthread_mutex_destroy(&events->lock);
	free(events);
}

ORBIT_EXPORT int orbit_events_publish(orbit_events_t *events, const char *topic,
				      const void *payload, size_t len)
{
	uint8_t stack[EVENT_STACK_FRAME];
	uint8_t *frame, *p;
	size_t topic_len, need;
	uint64_t now;
	int ret;

	if (!events)
		return ORBIT_INVALID("%s: events is NULL", __func__);
	ret = topic_check(__func__, topic, &topic_len);
	if (ret < 0)
		return ret;
	if (!payload && len)
		return ORBIT_INVALID("%s: payload is NULL, len %zu", __func__, len);
	/* payload_len is a u16 on the wire even when the ring's slots are larger. */
	if (len > UINT16_MAX || EVENT_HEADER + topic_len + len > events->payload_max)
		return -EMSGSIZE;
	need = EVENT_HEADER + topic_len + len;
	now = clock_unix_ms();

	frame = frame_buffer_get(events, stack, need);
	p = wire_put_u16(frame, (uint16_t)topic_len);
	p = wire_put_u16(p, (uint16_t)len);
	p = wire_put_u64(p, now);
	p = wire_put_bytes(p, topic, topic_len);
	wire_put_bytes(p, payload, len);
	ret = orbit_ring_write(events->ring, EVENT_FRAME, now, frame, need, NULL);
	frame_buffer_put(events, frame);
	return ret;
}

ORBIT_EXPORT uint64_t orbit_events_head(orbit_events_t *events)
{
	return events ? orbit_ring_head(events->ring) : 0;
}

ORBIT_EXPORT uint64_t orbit_events_oldest(orbit_events_t *events)
{
	uint64_t head, capacity;

	if (!events)
		return 0;
	head = orbit_ring_head(events->ring);
	capacity = orbit_ring_capacity(events->ring);
	return head > capacity ? head - capacity : 0;
}

/* False for anything that is not a well-formed event frame: such frames are skipped. */
static bool event_decode(const orbit_frame_t *frame, const uint8_t *raw, struct event_view *view)
{
	struct wire_reader r = wire_reader_init(raw, frame->len);

	if (frame->kind != EVENT_FRAME)
		return false;
	view->topic_len = wire_u16(&r);
	view->len = wire_u16(&r);
	view->timestamp_ms = wire_u64(&r);
	view->topic = wire_take(&r, view->topic_len);
	view->payload = wire_take(&r, view->len);
	return wire_done(&r) && view->topic_len <= EVENT_TOPIC_MAX;
}

static bool topic_matches(const struct event_view *view, const char *topic, size_t topic_len)
{
	return !topic || (view->topic_len == topic_len && !memcmp(view->topic, topic, topic_len));
}

static int event_deliver(const orbit_frame_t *frame, const struct event_view *view,
			 orbit_event_t *event, void *buf, size_t size)
{
	size_t n = view->len < size ? view->len : size;

	event->id = frame->id;
	event->timestamp_ms = view->timestamp_ms;
	event->topic_len = view->topic_len;
	memcpy(event->topic, view->topic, view->topic_len);
	event->topic[view->topic_len] = '\0';
	event->len = view->len;
	if (n)
		memcpy(buf, view->payload, n);
	return view->len > size ? -EMSGSIZE : 0;
}

static int events_next(struct orbit_events *events, uint64_t *cursor, const char *topic,
		       size_t topic_len, orbit_event_t *event, void *buf, size_t size,
		       uint64_t *lagged, uint8_t *raw)
{
	uint64_t next = *cursor;
	struct event_view view;
	orbit_frame_t frame;
	int ret;

	for (;;) {
		/* The raw buffer holds any frame the ring accepts, so the ring never
		 * reports -EMSGSIZE here; the caller's size is checked on the payload. */
		ret = orbit_ring_next(events->ring, &next, &frame, raw, events->payload_max,
				      lagged);
		if (ret < 0)
			break;
		if (!event_decode(&frame, raw, &view) || !topic_matches(&view, topic, topic_len))
			continue;
		ret = event_deliver(&frame, &view, event, buf, size);
		if (ret == -EMSGSIZE)
			next--; /* stay on this event so a retry with a larger buffer gets it */
		break;
	}
	*cursor = next;
	return ret;
}

ORBIT_EXPORT int orbit_events_poll(orbit_events_t *events, uint64_t *cursor, const char *topic,
				   orbit_event_t *event, void *buf, size_t size, uint64_t *lagged)
{
	uint8_t stack[EVENT_STACK_FRAME];
	size_t topic_len = 0;
	uint8_t *raw;
	int ret;

	if (!events || !cursor)
		return ORBIT_INVALID("%s: %s is NULL", __func__, events ? "cursor" : "events");
	if (!event)
		return ORBIT_INVALID("%s: event is NULL", __func__);
	if (!buf && size)
		return ORBIT_INVALID("%s: buf is NULL, size %zu", __func__, size);
	if (topic) {
		ret = topic_check(__func__, topic, &topic_len);
		if (ret < 0)
			return ret;
	}

	raw = frame_buffer_get(events, stack, events->payload_max);
	ret = events_next(events, cursor, topic, topic_len, event, buf, size, lagged, raw);
	frame_buffer_put(events, raw);
	return ret;
}

ORBIT_EXPORT int orbit_events_wait(orbit_events_t *events, uint64_t cursor, int timeout_ms)
{
	if (!events)
		return ORBIT_INVALID("%s: events is NULL", __func__);
	if (timeout_ms < -1)
		return ORBIT_INVALID("%s: timeout_ms %d is below -1", __func__, timeout_ms);
	/*
	 * Not orbit_ring_wait(): a poll returns -EAGAIN at a frame a live publisher has not
	 * committed, while the head is already past it, so a loop of poll and head wait would
	 * spin for as long as that publisher is stopped. Only the ring knows when the frame
	 * at the cursor settles.
	 */
	return ring_wait_settled(events->ring, cursor, ring_deadline(timeout_ms),
				 &events->interrupted);
}

ORBIT_EXPORT int orbit_events_follow(orbit_events_t *events, uint64_t *cursor, const char *topic,
				     orbit_event_t *event, void *buf, size_t size, uint64_t *lagged,
				     int timeout_ms)
{
	uint64_t deadline;
	int ret;

	if (!events)
		return ORBIT_INVALID("%s: events is NULL", __func__);
	if (timeout_ms < -1)
		return ORBIT_INVALID("%s: timeout_ms %d is below -1", __func__, timeout_ms);
	deadline = ring_deadline(timeout_ms);
	for (;;) {
		if (atomic_load_explicit(&events->interrupted, memory_order_acquire))
			return -ECANCELED;
		ret = orbit_events_poll(events, cursor, topic, event, buf, size, lagged);
		if (ret != -EAGAIN)
			return ret;
		ret = ring_wait_settled(events->ring, *cursor, deadline, &events->interrupted);
		if (ret < 0)
			return ret;
	}
}

ORBIT_EXPORT int orbit_events_interrupt(orbit_events_t *events, int on)
{
	if (!events)
		return ORBIT_INVALID("%s: events is NULL", __func__);
	ring_interrupt(events->ring, &events->interrupted, on != 0);
	return 0;
}

ORBIT_EXPORT int orbit_events_fd(orbit_events_t *events)
{
	return events ? ring_poller_fd(events->ring, &events->poller)
		      : ORBIT_INVALID("%s: events is NULL", __func__);
}

ORBIT_EXPORT int orbit_events_arm(orbit_events_t *events, uint64_t cursor)
{
	return events ? ring_poller_arm(events->ring, &events->poller, cursor)
		      : ORBIT_INVALID("%s: events is NULL", __func__);
}
