/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_store.c - libFuzzer target for the store process's request reader
 * and dispatcher, fed whole sequences of bytes from several clients at
 * once (privileged, read-only, an unprivileged domain's socket and ring,
 * an introduced guest's ring) and raw frames from the broker, through
 * store_harness.h.  Every input gets a fresh store.
 *
 * The input is a list of records: selector byte (low 7 bits % 6: enum
 * harness_conn; bit 7: the client hangs up after sending), 2-byte
 * little-endian length, that many bytes (clipped to what is left).
 */
#include "fuzz.h"
#include "store_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	harness_open();
	while (size >= 3 && !harness_broken()) {
		uint8_t sel = data[0];
		size_t n = (size_t)data[1] | (size_t)data[2] << 8;

		data += 3;
		size -= 3;
		if (n > size)
			n = size;
		harness_feed((enum harness_conn)((sel & 0x7f) % 6), data, n,
			     sel & 0x80);
		data += n;
		size -= n;
	}
	harness_check_names();
	harness_close();
	return 0;
}
