/* SPDX-License-Identifier: MIT */
/*
 * Writes the seed corpus (fuzz/corpus/HARNESS/NAME): small inputs that reach deep into each
 * harness. Segments, slots and frames come from the library itself (real segments of both
 * layouts, real frames of every substrate), so the seeds say what a peer really writes.
 * Usage: fuzz-make-corpus DIR (`meson compile -C BUILD fuzz-corpus` rewrites fuzz/corpus).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz-util.h"
#include "inputs.h"
#include "names.h"

#define SEED_KIND 9
#define TTL_LONG  (3600ull * 1000)

static const char *corpus_dir;

static void must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz-make-corpus: %s failed\n", what);
		exit(1);
	}
}

static void seed_write(const char *harness, const char *name, const void *data, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", corpus_dir, harness);
	must(mkdir(path, 0755) == 0 || errno == EEXIST, path);
	snprintf(path, sizeof(path), "%s/%s/%s", corpus_dir, harness, name);
	f = fopen(path, "wb");
	must(f && fwrite(data, 1, len, f) == len && fclose(f) == 0, path);
}

static void seed_output(const char *harness, const char *name, struct fuzz_output *out)
{
	seed_write(harness, name, out->data, out->len);
	free(out->data);
	*out = (struct fuzz_output){ 0 };
}

static void seed_text(const char *harness, const char *name, const char *text)
{
	seed_write(harness, name, text, strlen(text));
}

/* Reads that cover a small ring: every counter, a cursor from the start, a short write. */
static struct fuzz_reads reads_of(uint32_t payload_max)
{
	return (struct fuzz_reads){
		.size = (uint16_t)payload_max,
		.counters = { 0, 1, UINT64_MAX },
		.id = orbit_id_make(SEED_KIND, 0, 1),
		.frame_kind = 3,
		.ver = 42,
		.write_len = 5,
	};
}

/* A fleet with one ring of SEED_KIND holding `frames` frames, optionally one claim left open. */
static orbit_fleet_t *ring_with_frames(const char *name, uint32_t capacity, uint32_t payload_max,
				       unsigned frames, bool abandoned, struct seg_map *map)
{
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;
	orbit_fleet_t *fleet;
	orbit_ring_t *ring;
	uint8_t payload[1000];

	opts.capacity = capacity;
	opts.payload_max = payload_max;
	must(orbit_fleet_join_shm(name, 0, 1, &opts, &fleet) == 0, "join");
	must(orbit_fleet_ring(fleet, SEED_KIND, &ring) == 0, "ring");
	for (unsigned i = 0; i < frames; i++) {
		size_t len = (i * 7) % (orbit_ring_payload_max(ring) + 1);

		memset(payload, 'a' + (int)i, len);
		must(orbit_ring_write(ring, (uint8_t)i, 1000 + i, payload, len, NULL) == 0,
		     "write");
	}
	must(seg_map_open(map, name, SEED_KIND, capacity, payload_max) == 0, "map");
	if (abandoned)
		seg_claim_and_abandon(map);
	return fleet;
}

static void segment_seed(const char *seed, uint32_t capacity, uint32_t payload_max, unsigned frames,
			 struct segment_input input, bool header_zero)
{
	struct fuzz_output out = { 0 };
	struct seg_map map;
	char name[64];
	orbit_fleet_t *fleet;

	test_fleet_name(name, sizeof(name), "fz-corpus");
	fleet = ring_with_frames(name, capacity, payload_max, frames, false, &map);
	if (header_zero)
		memset(map.base, 0, map.layout->header_size);
	input.kind = SEED_KIND;
	input.object_size = (uint32_t)map.size;
	input.reads = reads_of(payload_max);
	input.bytes = map.base;
	input.len = map.size;
	segment_input_put(&out, &input);
	seed_output("segment", seed, &out);
	seg_map_close(&map);
	orbit_fleet_leave(fleet);
	test_unlink_fleet(name);
}

static void segment_seeds(void)
{
	const struct segment_input probed = { .join_probed = true };
	struct fuzz_output out = { 0 };
	struct segment_input own = { .capacity_log2 = 2, .payload_max = 24 };

	segment_seed("layout1", 2, 256, 3, probed, false);
	segment_seed("layout2-24", 4, 24, 5, probed, false);
	segment_seed("layout2-100", 2, 100, 1, probed, false);
	segment_seed("layout2-own-options", 4, 24, 2, own, false);
	own.payload_max = 100;
	segment_seed("layout2-other-options", 4, 24, 2, own, false);
	segment_seed("creator-died-before-header", 2, 256, 0, probed, true);

	own = (struct segment_input){ .object_mode = 1, .fleet_mode = 2, .join_probed = true };
	segment_seed("mode-0640", 2, 256, 1, own, false);
	own.fleet_mode = 0;
	segment_seed("mode-too-wide", 2, 256, 1, own, false);

	/* An object its creator left empty: the join formats it with its own options. */
	own = (struct segment_input){ .kind = SEED_KIND,
				      .capacity_log2 = 1,
				      .reads = reads_of(256) };
	segment_input_put(&out, &own);
	seed_output("segment", "empty", &out);
}

static void ring_seed(const char *seed, uint8_t geometry, unsigned frames, bool abandoned,
		      uint64_t head)
{
	struct fuzz_output out = { 0 };
	struct ring_input input = { .geometry = geometry, .kind = SEED_KIND };
	uint32_t capacity, payload_max;
	orbit_fleet_t *fleet;
	struct seg_map map;
	char name[64];

	ring_geometry(geometry, &capacity, &payload_max);
	test_fleet_name(name, sizeof(name), "fz-corpus");
	fleet = ring_with_frames(name, capacity, payload_max, frames, abandoned, &map);
	input.head = head ? head : seg_load64(map.base, map.layout->hdr_write_pos);
	input.reads = reads_of(payload_max);
	input.slots = map.base + map.layout->header_size;
	input.len = map.size - map.layout->header_size;
	ring_input_put(&out, &input);
	seed_output("ring", seed, &out);
	seg_map_close(&map);
	orbit_fleet_leave(fleet);
	test_unlink_fleet(name);
}

static void ring_seeds(void)
{
	/* geometry: capacity 2 << (g & 3), payload_max from ring_geometry()'s table by g >> 2. */
	ring_seed("layout1-wrapped", 0, 3, false, 0);
	ring_seed("layout2-8", 1 | 1 << 2, 6, false, 0);
	ring_seed("layout2-100-abandoned", 2 | 4 << 2, 5, true, 0);
	ring_seed("layout2-1000", 3 | 7 << 2, 20, false, 0);
	ring_seed("layout1-head-at-the-end", 0, 2, false, UINT64_MAX - 1);
}

/* ---- substrates ---- */

static void op_put(struct fuzz_output *out, enum substrate_op code, uint8_t node, uint8_t sel,
		   uint8_t sub, uint64_t num, const char *a, const void *b, size_t b_len)
{
	const struct substrate_op_input op = {
		.op = (uint8_t)code,
		.node = node,
		.sel = sel,
		.sub = sub,
		.num = num,
		.a = (const uint8_t *)a,
		.a_len = a ? strlen(a) : 0,
		.b = b,
		.b_len = b_len,
	};

	substrate_op_put(out, &op);
}

static void substrates_start(struct fuzz_output *out, uint8_t geometry)
{
	fuzz_put_u8(out, geometry);
	fuzz_put_u8(out, 1); /* a third member that never beats */
}

static void substrate_call_seeds(void)
{
	struct fuzz_output out = { 0 };

	substrates_start(&out, 3);
	op_put(&out, OP_CACHE_PUT, 0, 0, 0, 0, "user:1", "alice", 5);
	op_put(&out, OP_CACHE_PUT, 1, 0, 0, TTL_LONG, "user:2", "bob", 3);
	op_put(&out, OP_CACHE_GET, 1, 0, 0, 16, "user:1", NULL, 0);
	op_put(&out, OP_CACHE_DELETE, 0, 0, 0, 0, "user:1", NULL, 0);
	op_put(&out, OP_CACHE_GET, 0, 0, 0, 2, "user:2", NULL, 0);
	op_put(&out, OP_CACHE_RESET, 1, 0, 0, 0, "user:", NULL, 0);
	op_put(&out, OP_CACHE_GET, 0, 0, 0, 16, "user:2", NULL, 0);
	seed_output("substrates", "cache", &out);

	substrates_start(&out, 1);
	op_put(&out, OP_EVENTS_PUBLISH, 0, 0, 0, 0, "jobs", "job 1 done", 10);
	op_put(&out, OP_EVENTS_PUBLISH, 1, 0, 0, 0, "logs", "hello", 5);
	op_put(&out, OP_EVENTS_POLL, 1, 0, 0, 64, NULL, NULL, 0);
	op_put(&out, OP_EVENTS_POLL, 0, 0, 0, 4, "jobs", NULL, 0);
	seed_output("substrates", "events", &out);

	substrates_start(&out, 2);
	op_put(&out, OP_CLAIM, 0, 5, 0, TTL_LONG, "leader", "node-0", 6);
	op_put(&out, OP_CLAIM, 1, 5, 1, TTL_LONG, "leader", "node-1", 6);
	op_put(&out, OP_HOLDER, 1, 5, 0, 0, "leader", NULL, 0);
	op_put(&out, OP_GUARD, 0, 0, 1, TTL_LONG, NULL, NULL, 0);
	op_put(&out, OP_GUARD, 0, 0, 0, 0, NULL, NULL, 0);
	op_put(&out, OP_CLAIM, 1, 5, 1, 1, "leader", "", 0);
	op_put(&out, OP_HOLDER, 0, 5, 0, 0, "leader", NULL, 0);
	seed_output("substrates", "contest", &out);

	substrates_start(&out, 0);
	op_put(&out, OP_HEARTBEAT, 0, 0, 0, 0, NULL, NULL, 0);
	op_put(&out, OP_SNAPSHOT, 1, 3, 0, 1000, NULL, NULL, 0);
	op_put(&out, OP_VALUE_STORE, 1, 0, 0, 0, NULL, "\1\2\3\4\5\6\7\10", 8);
	op_put(&out, OP_VALUE_LOAD, 0, 0, 0, 8, NULL, NULL, 0);
	op_put(&out, OP_VALUE_LOAD, 0, 0, 0, 4, NULL, NULL, 0);
	seed_output("substrates", "heartbeat-value", &out);

	/* The smallest layout-2 payload any substrate header fits into, for the size edges. */
	substrates_start(&out, 2 << 2);
	op_put(&out, OP_CACHE_PUT, 0, 0, 0, 0, "k", "v", 1);
	op_put(&out, OP_EVENTS_PUBLISH, 1, 0, 0, 0, "t", "pay", 3);
	op_put(&out, OP_CLAIM, 0, 1, 0, TTL_LONG, "s", "o", 1);
	op_put(&out, OP_VALUE_STORE, 1, 0, 0, 0, NULL, "0123456789012345678901234", 25);
	seed_output("substrates", "small-slots", &out);
}

/*
 * A seed of substrate frames: one frame of every kind, written by a process-local fleet of
 * the geometry (names name_len bytes long: 255 puts every length at its limit), replayed
 * with `code` and then read through each substrate. Only the frames of ring
 * substrate_rings[only_ring] unless that is -1; OP_FRAME's split moved by split_delta.
 */
struct frames_spec {
	const char *seed;
	uint8_t geometry;
	size_t name_len;
	enum substrate_op code;
	int only_ring;
	int split_delta;
};

static void frames_of(struct fuzz_output *out, orbit_fleet_t *fleet, uint8_t ring_sel,
		      const struct frames_spec *spec)
{
	uint8_t kind = substrate_rings[ring_sel], payload[1000];
	orbit_frame_t frame;
	orbit_ring_t *ring;

	must(orbit_fleet_ring(fleet, kind, &ring) == 0, "substrate ring");
	for (uint64_t c = 0; c < orbit_ring_head(ring); c++) {
		uint64_t num;

		must(orbit_ring_read_at(ring, c, &frame, payload, sizeof(payload)) == 0, "frame");
		num = frame.ver;
		if (spec->code == OP_FRAME)
			num = num << 16 |
			      (uint16_t)(frame_split(kind, frame.kind, payload, frame.len) +
					 spec->split_delta);
		op_put(out, spec->code, orbit_id_node(frame.id) & 1, ring_sel, frame.kind, num,
		       NULL, payload, frame.len);
	}
}

static void frames_seed(const struct frames_spec *spec)
{
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;
	struct fuzz_output out = { 0 };
	size_t name_len = spec->name_len;
	orbit_events_t *events;
	orbit_fleet_t *fleet;
	orbit_cache_t *cache;
	orbit_guard_t *guard;
	char name[256];

	memset(name, 'n', name_len);
	name[name_len] = '\0';
	ring_geometry(spec->geometry, &opts.capacity, &opts.payload_max);
	must(orbit_fleet_join("fz-corpus", 1, 2, &opts, &fleet) == 0, "local fleet");
	must(orbit_cache_open(fleet, ORBIT_KIND_CACHE, &cache) == 0, "cache");
	must(orbit_cache_put(cache, name, name_len, "alice", 5, 0) == 0, "put");
	must(orbit_cache_put(cache, "user:2", 6, "bob", 3, TTL_LONG) == 0, "put");
	must(orbit_cache_delete(cache, name, name_len) == 0, "delete");
	must(orbit_cache_reset(cache, "user:", 5) == 0, "reset");
	must(orbit_events_open(fleet, ORBIT_KIND_EVENTS, &events) == 0, "events");
	must(orbit_events_publish(events, name, "done", 4) == 0, "publish");
	must(orbit_contest_claim(fleet, 5, name, name, TTL_LONG, &guard, NULL) == 0, "claim");
	must(orbit_guard_renew(guard, TTL_LONG) == 0, "renew");
	must(orbit_guard_release(guard) == 0, "release");
	must(orbit_heartbeat(fleet) == 0, "heartbeat");
	must(orbit_value_store(fleet, SUBSTRATE_VALUE_KIND, "\1\2\3\4", 4) == 0, "store");

	substrates_start(&out, spec->geometry);
	for (uint8_t sel = 0; sel < sizeof(substrate_rings); sel++)
		if (spec->only_ring < 0 || spec->only_ring == sel)
			frames_of(&out, fleet, sel, spec);
	op_put(&out, OP_CACHE_GET, 0, 0, 0, 16, "user:2", NULL, 0);
	op_put(&out, OP_EVENTS_POLL, 0, 0, 0, 16, NULL, NULL, 0);
	op_put(&out, OP_HOLDER, 0, 5, 0, 0, name, NULL, 0);
	op_put(&out, OP_SNAPSHOT, 0, 3, 0, 60000, NULL, NULL, 0);
	op_put(&out, OP_VALUE_LOAD, 0, 0, 0, 4, NULL, NULL, 0);
	seed_output("substrates", spec->seed, &out);

	orbit_events_close(events);
	orbit_cache_close(cache);
	orbit_fleet_leave(fleet);
}

static void frames_seeds(void)
{
	/* Geometry 1 | 7 << 2: 4 slots of 1000 bytes, room for the longest names and past them. */
	static const struct frames_spec specs[] = {
		{ "raw-frames", 3, 6, OP_RAW, -1, 0 },
		/* Small seeds, one ring's frames each, so that mutations land on what matters. */
		{ "fitted-cache-longest-key", 1 | 7 << 2, 255, OP_FRAME, 0, 0 },
		{ "fitted-event-longest-topic", 1 | 7 << 2, 255, OP_FRAME, 1, 0 },
		{ "fitted-contest-longest-label", 1 | 7 << 2, 255, OP_FRAME, 3, 0 },
		/* One byte past the decoders' 255-byte limits: must be passed over. */
		{ "fitted-event-topic-past-limit", 1 | 7 << 2, 255, OP_FRAME, 1, 1 },
		{ "fitted-contest-label-past-limit", 1 | 7 << 2, 255, OP_FRAME, 3, 1 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(specs); i++)
		frames_seed(&specs[i]);
}

static void id_seeds(void)
{
	static const char *const texts[][2] = {
		{ "zero", "0:0:0" },
		{ "largest", "255:65535:1099511627775" },
		{ "typical", "200:3:45" },
		{ "leading-zero", "01:2:3" },
		{ "counter-too-large", "1:2:1099511627776" },
		{ "kind-too-large", "256:0:0" },
		{ "empty-field", "1::2" },
		{ "sign", "1:+2:3" },
		{ "trailing", "1:2:3 " },
	};

	for (size_t i = 0; i < ARRAY_SIZE(texts); i++)
		seed_text("id", texts[i][0], texts[i][1]);
}

static void fleet_name_seeds(void)
{
	char longest[202];

	seed_text("fleet-name", "plain", "workers");
	seed_text("fleet-name", "all-classes", "A-z_0.9");
	seed_text("fleet-name", "dot-first", ".hidden");
	seed_text("fleet-name", "slash", "a/b");
	seed_text("fleet-name", "space", "a b");
	memset(longest, 'x', 200);
	longest[200] = '\0';
	seed_text("fleet-name", "longest", longest);
	longest[200] = 'x';
	longest[201] = '\0';
	seed_text("fleet-name", "too-long", longest);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	corpus_dir = argv[1];
	must(mkdir(corpus_dir, 0755) == 0 || errno == EEXIST, corpus_dir);
	segment_seeds();
	ring_seeds();
	substrate_call_seeds();
	frames_seeds();
	id_seeds();
	fleet_name_seeds();
	return 0;
}
