/* The state file a device process leaves for its successor (devstate.h).
 * Shared memory written by a peer that may be hostile: every shared field
 * is read once, with an atomic load, into a local, and only the local is
 * checked and used. */
#include "devstate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

/* The layout: a header line, then two records. */
struct hdr {
	uint32_t magic, version;
	uint32_t current; /* 1 + the complete record's index; 0: none yet */
	uint8_t reserved[52];
};

struct rec {
	uint32_t len;
	uint8_t reserved[12];
	uint8_t payload[DEVSTATE_MAX_PAYLOAD];
};

_Static_assert(sizeof(struct hdr) == 64, "devstate header is one line");
_Static_assert(64 + 2 * sizeof(struct rec) <= DEVSTATE_SIZE, "two records fit");

static struct hdr *hdr_of(const struct devstate *s)
{
	return s->base;
}

static struct rec *rec_of(const struct devstate *s, unsigned i)
{
	return (struct rec *)((char *)s->base + 64 + i * sizeof(struct rec));
}

static bool live_len_ok(uint64_t live_len)
{
	return live_len % 4096 == 0 && live_len <= DEVSTATE_MAX_LIVE;
}

int devstate_create_fd(size_t live_len)
{
	_cleanup_close_ int fd = -1;

	if (!live_len_ok(live_len))
		return -EINVAL;
	fd = memfd_create("moat-devstate", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)(DEVSTATE_SIZE + live_len)) < 0)
		return -errno;
	/* neither process may make the other's mapping fault (SIGBUS) */
	if (fcntl(fd, F_ADD_SEALS, SEALS) < 0)
		return -errno;
	return TAKE_FD(fd);
}

int devstate_map(int fd, struct devstate *out)
{
	struct stat st;
	void *base;
	int seals;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size < DEVSTATE_SIZE ||
	    !live_len_ok((uint64_t)st.st_size - DEVSTATE_SIZE))
		return -EBADMSG;
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0)
		return errno == EINVAL ? -EPERM : -errno;
	if ((seals & SEALS) != SEALS)
		return -EPERM;
	base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		return -errno;
	*out = (struct devstate){.base = base, .live_len = (size_t)st.st_size - DEVSTATE_SIZE};
	if (out->live_len)
		out->live = (char *)base + DEVSTATE_SIZE;
	return 0;
}

void devstate_unmap(struct devstate *s)
{
	if (s && s->base)
		munmap(s->base, DEVSTATE_SIZE + s->live_len);
	if (s)
		s->base = NULL;
}

int devstate_read(struct devstate *s, uint8_t *buf, size_t cap)
{
	struct hdr *h = hdr_of(s);
	uint32_t cur = __atomic_load_n(&h->current, __ATOMIC_ACQUIRE);
	uint32_t magic = __atomic_load_n(&h->magic, __ATOMIC_RELAXED);
	uint32_t version = __atomic_load_n(&h->version, __ATOMIC_RELAXED);

	/* none complete yet: a first start, or a first write cut short */
	if (cur == 0)
		return 0;
	if (magic != DEVSTATE_MAGIC || version != DEVSTATE_VERSION || cur > 2)
		return -EBADMSG;
	struct rec *r = rec_of(s, cur - 1);
	uint32_t len = __atomic_load_n(&r->len, __ATOMIC_RELAXED);
	if (len > DEVSTATE_MAX_PAYLOAD || len > cap)
		return -EBADMSG;
	/* once, into private memory: the kind parses only this copy */
	memcpy(buf, r->payload, len);
	/* the successor writes on from here, to the other record */
	s->next = cur == 1 ? 1 : 0;
	return (int)len;
}

int devstate_write(struct devstate *s, const uint8_t *payload, size_t len)
{
	struct hdr *h = hdr_of(s);
	struct rec *r = rec_of(s, s->next);

	if (len > DEVSTATE_MAX_PAYLOAD)
		return -EMSGSIZE;
	memcpy(r->payload, payload, len);
	__atomic_store_n(&r->len, (uint32_t)len, __ATOMIC_RELAXED);
	__atomic_store_n(&h->magic, DEVSTATE_MAGIC, __ATOMIC_RELAXED);
	__atomic_store_n(&h->version, DEVSTATE_VERSION, __ATOMIC_RELAXED);
	/* the record is complete before the header names it */
	__atomic_store_n(&h->current, s->next + 1, __ATOMIC_RELEASE);
	s->next ^= 1;
	return 0;
}
