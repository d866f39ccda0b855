/* SPDX-License-Identifier: MIT */
/*
 * Ring reads over arbitrary slot contents: a ring is joined as usual, then the input is
 * written over its head and slots through a second, raw mapping, as a buggy or hostile
 * peer could, and every read call runs over what is there.
 */
#include <string.h>

#include "fuzz-util.h"
#include "inputs.h"
#include "names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = fuzz_input_init(data, size);
	orbit_fleet_options_t opts = ORBIT_FLEET_OPTIONS_INIT;
	struct ring_input input;
	orbit_fleet_t *fleet;
	orbit_ring_t *ring;
	struct seg_map map;
	uint8_t *slots;
	size_t room;
	char name[64];

	ring_input_take(&in, &input);
	ring_geometry(input.geometry, &opts.capacity, &opts.payload_max);
	test_fleet_name(name, sizeof(name), "fz-ring");
	FUZZ_CHECK(orbit_fleet_join_shm(name, 0, 1, &opts, &fleet) == 0);
	FUZZ_CHECK(orbit_fleet_ring(fleet, input.kind, &ring) == 0);
	FUZZ_CHECK(seg_map_open(&map, name, input.kind, opts.capacity, opts.payload_max) == 0);

	seg_store64(map.base, map.layout->hdr_write_pos, input.head);
	slots = map.base + map.layout->header_size;
	room = map.size - map.layout->header_size;
	memcpy(slots, input.slots, input.len < room ? input.len : room);
	fuzz_ring_exercise(ring, &map, &input.reads);

	seg_map_close(&map);
	orbit_fleet_leave(fleet);
	fuzz_unlink_segment(name, input.kind);
	fuzz_unlink_tables(name);
	return 0;
}
