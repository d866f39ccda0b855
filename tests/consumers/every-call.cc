// SPDX-License-Identifier: MIT
// A C++17 user of <orbit.h> that calls every public function and checks what each returns:
// handles owned by std::unique_ptr, buffers in std::string and std::vector. every-call.sh
// builds it with -pedantic -Werror and checks it binds every symbol the library exports.
#include <orbit.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <poll.h>
#include <unistd.h>

namespace
{

int failures;

void expect(bool ok, const char *what, long long got)
{
	if (!ok) {
		std::fprintf(stderr, "FAIL: %s (got %lld)\n", what, got);
		failures++;
	}
}

template <typename T, typename U> void expect_eq(T got, U want, const char *what)
{
	expect(static_cast<long long>(got) == static_cast<long long>(want), what,
	       static_cast<long long>(got));
}

// 1 if fd polls readable now, 0 if not (or -1 for a bad descriptor).
int readable(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return fd < 0 ? -1 : poll(&p, 1, 0);
}

// Checks that the call returned `want`, naming the call when it did not.
#define EXPECT_EQ(call, want) expect_eq((call), (want), #call)

struct fleet_leaver {
	void operator()(orbit_fleet_t *fleet) const
	{
		orbit_fleet_leave(fleet);
	}
};
struct cache_closer {
	void operator()(orbit_cache_t *cache) const
	{
		orbit_cache_close(cache);
	}
};
struct events_closer {
	void operator()(orbit_events_t *events) const
	{
		orbit_events_close(events);
	}
};
using fleet_ptr = std::unique_ptr<orbit_fleet_t, fleet_leaver>;
using cache_ptr = std::unique_ptr<orbit_cache_t, cache_closer>;
using events_ptr = std::unique_ptr<orbit_events_t, events_closer>;

constexpr uint16_t kNode = 1;
constexpr uint16_t kFleetSize = 4;
constexpr uint32_t kCapacity = 8;
constexpr uint32_t kPayloadMax = 64;

orbit_fleet_options_t small_rings()
{
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;

	opts.capacity = kCapacity;
	opts.payload_max = kPayloadMax;
	return opts;
}

std::string unique_name(const char *tag)
{
	return std::string("consumer-cxx-") + tag + "-" + std::to_string(getpid());
}

fleet_ptr join(bool shared, const std::string &name)
{
	orbit_fleet_options_t opts = small_rings();
	orbit_fleet_t *fleet = nullptr;
	int ret = shared ? orbit_fleet_join_shm(name.c_str(), kNode, kFleetSize, &opts, &fleet)
			 : orbit_fleet_join(name.c_str(), kNode, kFleetSize, &opts, &fleet);

	EXPECT_EQ(ret, 0);
	return fleet_ptr(fleet);
}

void check_version()
{
	std::string want = std::to_string(ORBIT_VERSION_MAJOR) + "." +
			   std::to_string(ORBIT_VERSION_MINOR) + "." +
			   std::to_string(ORBIT_VERSION_PATCH);

	expect(want == orbit_version(), "orbit_version() matches ORBIT_VERSION_*", 0);
}

void check_ids()
{
	// The counter is truncated to its 40 bits.
	orbit_id_t id = orbit_id_make(7, 513, (1ull << 40) + 5);
	orbit_id_t parsed = 0;
	std::vector<char> text(32);

	EXPECT_EQ(orbit_id_kind(id), 7);
	EXPECT_EQ(orbit_id_node(id), 513);
	EXPECT_EQ(orbit_id_counter(id), 5);
	EXPECT_EQ(orbit_id_format(id, text.data(), text.size()), 7);
	expect(std::string(text.data()) == "7:513:5", "orbit_id_format text", 0);
	EXPECT_EQ(orbit_id_format(id, text.data(), 4), -ENOSPC);
	EXPECT_EQ(orbit_id_parse("7:513:5", &parsed), 0);
	expect(parsed == id, "orbit_id_parse round trip", static_cast<long long>(parsed));
	EXPECT_EQ(orbit_id_parse("7:513:5 ", &parsed), -EINVAL);
}

void check_ring(orbit_fleet_t *fleet)
{
	const std::string hello = "hello";
	std::vector<char> buf(kPayloadMax);
	orbit_ring_t *ring = nullptr;
	orbit_frame_t frame{};
	uint64_t cursor = 0, lost = 0;
	orbit_id_t id = 0;

	EXPECT_EQ(orbit_fleet_ring(fleet, 9, &ring), 0);
	if (!ring)
		return;
	EXPECT_EQ(orbit_ring_kind(ring), 9);
	EXPECT_EQ(orbit_ring_capacity(ring), kCapacity);
	EXPECT_EQ(orbit_ring_payload_max(ring), kPayloadMax);
	EXPECT_EQ(orbit_ring_head(ring), 0);

	EXPECT_EQ(orbit_ring_write(ring, 3, 42, hello.data(), hello.size(), &id), 0);
	EXPECT_EQ(orbit_id_kind(id), 9);
	EXPECT_EQ(orbit_id_node(id), kNode);
	EXPECT_EQ(orbit_id_counter(id), 0);
	EXPECT_EQ(orbit_ring_head(ring), 1);

	EXPECT_EQ(orbit_ring_read(ring, id, &frame, buf.data(), buf.size()), 0);
	EXPECT_EQ(frame.id, id);
	EXPECT_EQ(frame.ver, 42);
	EXPECT_EQ(frame.kind, 3);
	EXPECT_EQ(frame.len, hello.size());
	expect(std::string(buf.data(), frame.len) == hello, "orbit_ring_read payload", 0);
	frame = orbit_frame_t{};
	EXPECT_EQ(orbit_ring_read_head(ring, &frame, buf.data(), buf.size()), 0);
	EXPECT_EQ(frame.id, id);
	frame = orbit_frame_t{};
	EXPECT_EQ(orbit_ring_read_at(ring, 0, &frame, buf.data(), buf.size()), 0);
	EXPECT_EQ(frame.id, id);
	EXPECT_EQ(orbit_ring_read_at(ring, 1, &frame, buf.data(), buf.size()), -ENOENT);

	EXPECT_EQ(orbit_ring_next(ring, &cursor, &frame, buf.data(), buf.size(), &lost), 0);
	EXPECT_EQ(cursor, 1);
	EXPECT_EQ(orbit_ring_next(ring, &cursor, &frame, buf.data(), buf.size(), &lost), -EAGAIN);
	EXPECT_EQ(orbit_ring_wait(ring, cursor, 0), -ETIMEDOUT);
	EXPECT_EQ(orbit_ring_wait(ring, 0, 0), 0);
	EXPECT_EQ(orbit_ring_follow(ring, &cursor, &frame, buf.data(), buf.size(), &lost, 0),
		  -ETIMEDOUT);
	EXPECT_EQ(readable(orbit_ring_fd(ring)), 0);
	EXPECT_EQ(orbit_ring_arm(ring, 0), 0);
	EXPECT_EQ(readable(orbit_ring_fd(ring)), 1);
	EXPECT_EQ(orbit_ring_interrupt(ring, 1), 0);
	EXPECT_EQ(orbit_ring_wait(ring, cursor, -1), -ECANCELED);
	EXPECT_EQ(orbit_ring_interrupt(ring, 0), 0);

	// Ten more frames lap the ring: a reader at counter 1 lost the two the ring overwrote.
	for (uint64_t ver = 0; ver < 10; ver++)
		EXPECT_EQ(orbit_ring_write(ring, 3, ver, hello.data(), hello.size(), nullptr), 0);
	EXPECT_EQ(orbit_ring_next(ring, &cursor, &frame, buf.data(), buf.size(), &lost), 0);
	EXPECT_EQ(lost, 2);
	EXPECT_EQ(orbit_id_counter(frame.id), 3);

	EXPECT_EQ(orbit_ring_reset(ring), 0);
	EXPECT_EQ(orbit_ring_head(ring), 0);

	// A batch in, a batch out: three frames on consecutive counters, one call each way.
	const orbit_msg_t msgs[3] = { { hello.data(), hello.size(), 7, 1 },
				      { nullptr, 0, 8, 2 },
				      { hello.data(), 2, 9, 3 } };
	orbit_frame_t frames[4];
	std::vector<char> bufs(4 * kPayloadMax);
	cursor = 0;
	lost = 0;
	EXPECT_EQ(orbit_ring_write_batch(ring, msgs, 3, &id), 3);
	EXPECT_EQ(id, orbit_id_make(9, kNode, 0));
	EXPECT_EQ(orbit_ring_next_batch(ring, &cursor, frames, bufs.data(), kPayloadMax, 4, &lost),
		  3);
	EXPECT_EQ(cursor, 3);
	EXPECT_EQ(frames[1].len, 0);
	EXPECT_EQ(frames[2].ver, 9);
	expect(std::string(bufs.data() + 2 * kPayloadMax, frames[2].len) == "he",
	       "orbit_ring_next_batch payload", 0);
}

void check_value(orbit_fleet_t *fleet)
{
	struct counters {
		uint32_t sent, received;
	} stored = { 3, 4 }, loaded = { 0, 0 };

	EXPECT_EQ(orbit_value_store(fleet, 20, &stored, sizeof(stored)), 0);
	EXPECT_EQ(orbit_value_load(fleet, 20, &loaded, sizeof(loaded)), 0);
	EXPECT_EQ(loaded.sent, 3);
	EXPECT_EQ(loaded.received, 4);
	EXPECT_EQ(orbit_value_load(fleet, 20, &loaded, sizeof(loaded.sent)), -EMSGSIZE);
}

void check_cache(orbit_fleet_t *fleet)
{
	orbit_cache_t *opened = nullptr;
	std::vector<char> buf(kPayloadMax);
	size_t len = 0;

	EXPECT_EQ(orbit_cache_open(fleet, ORBIT_KIND_CACHE, &opened), 0);
	cache_ptr cache(opened);
	if (!cache)
		return;
	EXPECT_EQ(orbit_cache_put(cache.get(), "k1", 2, "v1", 2, 0), 0);
	EXPECT_EQ(orbit_cache_get(cache.get(), "k1", 2, buf.data(), buf.size(), &len), 0);
	EXPECT_EQ(len, 2);
	expect(std::string(buf.data(), len) == "v1", "orbit_cache_get value", 0);
	EXPECT_EQ(orbit_cache_get(cache.get(), "k1", 2, nullptr, 0, &len), -EMSGSIZE);
	EXPECT_EQ(orbit_cache_delete(cache.get(), "k1", 2), 0);
	EXPECT_EQ(orbit_cache_get(cache.get(), "k1", 2, buf.data(), buf.size(), &len), -ENOENT);
	EXPECT_EQ(orbit_cache_put(cache.get(), "p/a", 3, "a", 1, 60000), 0);
	EXPECT_EQ(orbit_cache_put(cache.get(), "q/a", 3, "b", 1, 0), 0);
	EXPECT_EQ(orbit_cache_reset(cache.get(), "p/", 2), 0);
	EXPECT_EQ(orbit_cache_get(cache.get(), "p/a", 3, buf.data(), buf.size(), &len), -ENOENT);
	EXPECT_EQ(orbit_cache_get(cache.get(), "q/a", 3, buf.data(), buf.size(), &len), 0);
}

void check_events(orbit_fleet_t *fleet)
{
	orbit_events_t *opened = nullptr;
	std::vector<char> buf(kPayloadMax);
	orbit_event_t event{};
	uint64_t cursor, lagged = 0;

	EXPECT_EQ(orbit_events_open(fleet, ORBIT_KIND_EVENTS, &opened), 0);
	events_ptr events(opened);
	if (!events)
		return;
	cursor = orbit_events_head(events.get());
	EXPECT_EQ(cursor, 0);
	EXPECT_EQ(orbit_events_oldest(events.get()), 0);
	EXPECT_EQ(orbit_events_publish(events.get(), "t/a", "x", 1), 0);
	EXPECT_EQ(orbit_events_publish(events.get(), "t/b", "yy", 2), 0);
	EXPECT_EQ(orbit_events_head(events.get()), 2);
	EXPECT_EQ(orbit_events_wait(events.get(), cursor, 0), 0);
	EXPECT_EQ(orbit_events_poll(events.get(), &cursor, "t/b", &event, buf.data(), buf.size(),
				    &lagged),
		  0);
	expect(std::string(event.topic) == "t/b", "orbit_events_poll topic", event.topic_len);
	EXPECT_EQ(event.len, 2);
	expect(std::string(buf.data(), event.len) == "yy", "orbit_events_poll payload", 0);
	EXPECT_EQ(orbit_id_node(event.id), kNode);
	EXPECT_EQ(cursor, 2);
	EXPECT_EQ(lagged, 0);
	EXPECT_EQ(orbit_events_poll(events.get(), &cursor, nullptr, &event, buf.data(), buf.size(),
				    &lagged),
		  -EAGAIN);
	EXPECT_EQ(orbit_events_wait(events.get(), cursor, 0), -ETIMEDOUT);
	EXPECT_EQ(orbit_events_follow(events.get(), &cursor, nullptr, &event, buf.data(),
				      buf.size(), &lagged, 0),
		  -ETIMEDOUT);
	EXPECT_EQ(orbit_events_arm(events.get(), 1), 0);
	EXPECT_EQ(readable(orbit_events_fd(events.get())), 1);
	EXPECT_EQ(orbit_events_interrupt(events.get(), 1), 0);
	EXPECT_EQ(orbit_events_wait(events.get(), cursor, -1), -ECANCELED);
}

void check_contest(orbit_fleet_t *fleet)
{
	orbit_guard_t *guard = nullptr, *second = nullptr;
	uint16_t holder = 0;
	uint64_t token;

	EXPECT_EQ(orbit_contest_holder(fleet, 5, "leader", &holder), -ENOENT);
	EXPECT_EQ(orbit_contest_claim(fleet, 5, "leader", "every-call", 60000, &guard, &holder), 0);
	if (!guard)
		return;
	EXPECT_EQ(orbit_contest_holder(fleet, 5, "leader", &holder), 0);
	EXPECT_EQ(holder, kNode);
	// Claims are not reentrant: the holder's own second claim is told it holds the subject.
	holder = 0;
	EXPECT_EQ(orbit_contest_claim(fleet, 5, "leader", nullptr, 60000, &second, &holder),
		  -EBUSY);
	EXPECT_EQ(holder, kNode);
	token = orbit_guard_token(guard);
	EXPECT_EQ(orbit_guard_renew(guard, 60000), 0);
	EXPECT_EQ(orbit_guard_token(guard), token);
	EXPECT_EQ(orbit_guard_release(guard), 0);
	EXPECT_EQ(orbit_contest_holder(fleet, 5, "leader", &holder), -ENOENT);
}

void check_heartbeat(orbit_fleet_t *fleet)
{
	std::vector<orbit_member_t> members(kFleetSize);

	EXPECT_EQ(orbit_heartbeat(fleet), 0);
	EXPECT_EQ(orbit_heartbeat_snapshot(fleet, 60000, members.data(), members.size()),
		  kFleetSize);
	EXPECT_EQ(members[kNode].node, kNode);
	EXPECT_EQ(members[kNode].state, ORBIT_MEMBER_ALIVE);
	expect(members[kNode].last_beat_ms > 0, "last_beat_ms of a beating node", 0);
	EXPECT_EQ(members[0].state, ORBIT_MEMBER_MISSING);
	EXPECT_EQ(orbit_heartbeat_snapshot(fleet, 60000, members.data(), 1), -ENOSPC);
}

void check_local_fleet()
{
	const std::string name = unique_name("local");
	fleet_ptr fleet = join(false, name);

	if (!fleet)
		return;
	expect(name == orbit_fleet_name(fleet.get()), "orbit_fleet_name", 0);
	EXPECT_EQ(orbit_fleet_node(fleet.get()), kNode);
	EXPECT_EQ(orbit_fleet_size(fleet.get()), kFleetSize);
	EXPECT_EQ(orbit_fleet_is_shared(fleet.get()), 0);
	check_ring(fleet.get());
	check_value(fleet.get());
	check_cache(fleet.get());
	check_events(fleet.get());
	check_contest(fleet.get());
	check_heartbeat(fleet.get());
	EXPECT_EQ(orbit_fleet_unlink(fleet.get()), 0);
}

void check_shared_fleet()
{
	const std::string name = unique_name("shm");
	orbit_fleet_options_t probed = ORBIT_FLEET_OPTIONS_INIT;
	orbit_ring_t *ring = nullptr;
	fleet_ptr fleet = join(true, name);

	if (!fleet)
		return;
	EXPECT_EQ(orbit_fleet_is_shared(fleet.get()), 1);
	EXPECT_EQ(orbit_fleet_probe(name.c_str(), 12, &probed), -ENOENT);
	EXPECT_EQ(orbit_fleet_ring(fleet.get(), 12, &ring), 0);
	EXPECT_EQ(orbit_fleet_probe(name.c_str(), 12, &probed), 0);
	EXPECT_EQ(probed.capacity, kCapacity);
	EXPECT_EQ(probed.payload_max, kPayloadMax);
	EXPECT_EQ(probed.mode, 0600);
	EXPECT_EQ(orbit_fleet_unlink(fleet.get()), 1);
}

} // namespace

int main()
{
	check_version();
	check_ids();
	check_local_fleet();
	check_shared_fleet();
	orbit_fleet_leave(nullptr);
	if (failures) {
		std::fprintf(stderr, "%d checks failed\n", failures);
		return 1;
	}
	std::printf("ok: every call of <orbit.h> from C++17\n");
	return 0;
}
