/* The device state file (ipc/devstate.c): what a device process leaves
 * for its successor. Its writer may be hostile and may die mid-write. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devstate.h"
#include "tap.h"

/* The layout the file promises (devstate.c): a 64-byte header (magic,
 * version, current), then two records of a length word, 12 bytes, and
 * the payload. */
#define HDR_CURRENT 8
#define REC(i)	    (64 + (i) * (16 + DEVSTATE_MAX_PAYLOAD))

static int t_first_start_has_no_state(void)
{
	int fd = devstate_create_fd(0);
	struct devstate s;
	uint8_t buf[64];

	CHECK(fd >= 0);
	CHECK(devstate_map(fd, &s) == 0);
	CHECK(devstate_read(&s, buf, sizeof(buf)) == 0);
	devstate_unmap(&s);
	close(fd);
	return 0;
}

static int t_round_trip_across_processes(void)
{
	int fd = devstate_create_fd(0);
	struct devstate a, b;
	uint8_t buf[DEVSTATE_MAX_PAYLOAD];

	CHECK(fd >= 0 && devstate_map(fd, &a) == 0);
	CHECK(devstate_write(&a, (const uint8_t *)"one", 3) == 0);
	CHECK(devstate_write(&a, (const uint8_t *)"second", 6) == 0);
	devstate_unmap(&a); /* the first process is gone */
	CHECK(devstate_map(fd, &b) == 0);
	CHECK(devstate_read(&b, buf, sizeof(buf)) == 6 && memcmp(buf, "second", 6) == 0);
	/* the successor writes on, and its successor sees that */
	CHECK(devstate_write(&b, (const uint8_t *)"third!!", 7) == 0);
	CHECK(devstate_read(&b, buf, sizeof(buf)) == 7 && memcmp(buf, "third!!", 7) == 0);
	devstate_unmap(&b);
	close(fd);
	return 0;
}

/* A writer killed while filling a record leaves the last complete one
 * named: the header switches only after the record is whole. */
static int t_torn_write_keeps_the_last_record(void)
{
	int fd = devstate_create_fd(0);
	struct devstate s;
	uint8_t buf[DEVSTATE_MAX_PAYLOAD];
	uint8_t *m;

	CHECK(fd >= 0 && devstate_map(fd, &s) == 0);
	CHECK(devstate_write(&s, (const uint8_t *)"complete", 8) == 0);
	m = s.base;
	/* the next write goes to record 1: half of it, then the kill */
	uint32_t len = 5;
	memcpy(m + REC(1), &len, 4);
	memcpy(m + REC(1) + 16, "to", 2);
	CHECK(devstate_read(&s, buf, sizeof(buf)) == 8 && memcmp(buf, "complete", 8) == 0);
	devstate_unmap(&s);
	close(fd);
	return 0;
}

static int t_hostile_framing_is_refused(void)
{
	int fd = devstate_create_fd(0);
	struct devstate s;
	uint8_t buf[16];
	uint8_t *m;
	uint32_t v;

	CHECK(fd >= 0 && devstate_map(fd, &s) == 0);
	CHECK(devstate_write(&s, (const uint8_t *)"abc", 3) == 0);
	m = s.base;
	/* a current record that does not exist */
	v = 3, memcpy(m + HDR_CURRENT, &v, 4);
	CHECK(devstate_read(&s, buf, sizeof(buf)) == -EBADMSG);
	v = 0xffffffff, memcpy(m + HDR_CURRENT, &v, 4);
	CHECK(devstate_read(&s, buf, sizeof(buf)) == -EBADMSG);
	v = 1, memcpy(m + HDR_CURRENT, &v, 4);
	CHECK(devstate_read(&s, buf, sizeof(buf)) == 3);
	/* a length past the record, and past the reader's buffer */
	v = DEVSTATE_MAX_PAYLOAD + 1, memcpy(m + REC(0), &v, 4);
	CHECK(devstate_read(&s, buf, sizeof(buf)) == -EBADMSG);
	v = sizeof(buf) + 1, memcpy(m + REC(0), &v, 4);
	CHECK(devstate_read(&s, buf, sizeof(buf)) == -EBADMSG);
	v = sizeof(buf), memcpy(m + REC(0), &v, 4);
	CHECK(devstate_read(&s, buf, sizeof(buf)) == (int)sizeof(buf));
	/* a wrong magic or version */
	v = 0x12345678, memcpy(m, &v, 4);
	CHECK(devstate_read(&s, buf, sizeof(buf)) == -EBADMSG);
	v = 0x5453444d, memcpy(m, &v, 4);
	v = 2, memcpy(m + 4, &v, 4);
	CHECK(devstate_read(&s, buf, sizeof(buf)) == -EBADMSG);
	devstate_unmap(&s);
	close(fd);
	return 0;
}

static int t_oversized_write_is_refused(void)
{
	static uint8_t big[DEVSTATE_MAX_PAYLOAD + 1];
	int fd = devstate_create_fd(0);
	struct devstate s;

	CHECK(fd >= 0 && devstate_map(fd, &s) == 0);
	CHECK(devstate_write(&s, big, sizeof(big)) == -EMSGSIZE);
	CHECK(devstate_write(&s, big, sizeof(big) - 1) == 0);
	devstate_unmap(&s);
	close(fd);
	return 0;
}

/* The mapper insists on the monitor's seals and size: without them, the
 * peer could shrink the file under the other's mapping (SIGBUS). */
static int t_unsealed_or_wrong_size_is_refused(void)
{
	struct devstate s;
	int fd = memfd_create("t", MFD_ALLOW_SEALING);

	CHECK(fd >= 0 && ftruncate(fd, DEVSTATE_SIZE) == 0);
	CHECK(devstate_map(fd, &s) == -EPERM);
	CHECK(ftruncate(fd, DEVSTATE_SIZE / 2) == 0);
	CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0);
	CHECK(devstate_map(fd, &s) == -EBADMSG);
	close(fd);
	fd = devstate_create_fd(0);
	CHECK(fd >= 0 && ftruncate(fd, 64) < 0 && errno == EPERM);
	close(fd);
	return 0;
}

/* A virtio device's live area: after the records, shared by every process
 * that maps the file; sizes no monitor makes are refused on both sides. */
static int t_live_area(void)
{
	struct devstate a, b;
	int fd = devstate_create_fd(2 * DEVSTATE_LIVE_PER_QUEUE), odd;

	CHECK(fd >= 0 && devstate_map(fd, &a) == 0 && devstate_map(fd, &b) == 0);
	CHECK(a.live == (char *)a.base + DEVSTATE_SIZE);
	CHECK(a.live_len == 2 * DEVSTATE_LIVE_PER_QUEUE && b.live_len == a.live_len);
	((uint8_t *)a.live)[a.live_len - 1] = 0x5a;
	CHECK(((uint8_t *)b.live)[b.live_len - 1] == 0x5a);
	CHECK(devstate_write(&a, (const uint8_t *)"x", 1) == 0); /* the records are apart */
	CHECK(((uint8_t *)b.live)[0] == 0);
	devstate_unmap(&a);
	devstate_unmap(&b);
	close(fd);
	CHECK(devstate_create_fd(100) == -EINVAL);
	CHECK(devstate_create_fd(DEVSTATE_MAX_LIVE + 4096) == -EINVAL);
	fd = devstate_create_fd(0);
	CHECK(fd >= 0 && devstate_map(fd, &a) == 0 && !a.live && a.live_len == 0);
	devstate_unmap(&a);
	close(fd);
	odd = memfd_create("t", MFD_ALLOW_SEALING);
	CHECK(odd >= 0 && ftruncate(odd, DEVSTATE_SIZE + 100) == 0);
	CHECK(fcntl(odd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0);
	CHECK(devstate_map(odd, &a) == -EBADMSG);
	close(odd);
	return 0;
}

TAP_MAIN(TEST(t_first_start_has_no_state), TEST(t_round_trip_across_processes),
	 TEST(t_torn_write_keeps_the_last_record), TEST(t_hostile_framing_is_refused),
	 TEST(t_oversized_write_is_refused), TEST(t_unsealed_or_wrong_size_is_refused),
	 TEST(t_live_area))
