/* fw_cfg: QEMU's firmware configuration device (see fw_cfg.h for the
 * ports). Items live in one table: the numbered ones and the files (keys
 * from FW_CFG_FILE_FIRST, names in fc->names by key order); the file
 * directory is an item too, rebuilt in place on each added file. */
#include "fw_cfg.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DIR_ROOM (4 + FW_CFG_MAX_FILES * FW_CFG_DIR_ENTRY_SIZE)

static uint32_t be32_get(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return be32toh(v);
}

static uint64_t be64_get(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return be64toh(v);
}

static void be32_put(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, sizeof(v));
}

static void be16_put(uint8_t *p, uint16_t v)
{
	v = htobe16(v);
	memcpy(p, &v, sizeof(v));
}

static int find_item(const struct fw_cfg *fc, uint16_t key)
{
	for (unsigned i = 0; i < fc->nitems; i++)
		if (fc->items[i].key == key)
			return (int)i;
	return -1;
}

static int find_file(const struct fw_cfg *fc, const char *name)
{
	for (unsigned f = 0; f < fc->nfiles; f++)
		if (strcmp(fc->names[f], name) == 0)
			return (int)f;
	return -1;
}

static bool is_file_key(const struct fw_cfg *fc, uint16_t key)
{
	return key >= FW_CFG_FILE_FIRST && (unsigned)(key - FW_CFG_FILE_FIRST) < fc->nfiles;
}

/* Append a copy of data as item key. The caller has checked the key. */
static int add_copy(struct fw_cfg *fc, uint16_t key, const void *data, size_t len)
{
	uint8_t *copy = NULL;

	if (len > FW_CFG_ITEM_MAX || (len > 0 && !data))
		return -EINVAL;
	if (fc->nitems >= sizeof(fc->items) / sizeof(fc->items[0]))
		return -ENOSPC;
	if (len > 0) {
		copy = malloc(len);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, data, len);
	}
	fc->items[fc->nitems++] = (struct fw_cfg_item){key, (uint32_t)len, copy};
	return 0;
}

/* Rewrite the directory item from the file table, sorted by name with
 * strcmp as QEMU sorts it (an insertion sort of at most 48 names). */
static void dir_rebuild(struct fw_cfg *fc)
{
	unsigned order[FW_CFG_MAX_FILES];
	struct fw_cfg_item *dir = &fc->items[find_item(fc, FW_CFG_FILE_DIR)];

	for (unsigned f = 0; f < fc->nfiles; f++) {
		unsigned j = f;

		while (j > 0 && strcmp(fc->names[order[j - 1]], fc->names[f]) > 0) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = f;
	}
	memset(fc->dir, 0, DIR_ROOM);
	be32_put(fc->dir, fc->nfiles);
	for (unsigned i = 0; i < fc->nfiles; i++) {
		uint16_t key = (uint16_t)(FW_CFG_FILE_FIRST + order[i]);
		uint8_t *e = fc->dir + 4 + i * FW_CFG_DIR_ENTRY_SIZE;

		be32_put(e, fc->items[find_item(fc, key)].len);
		be16_put(e + 4, key);
		memcpy(e + 8, fc->names[order[i]], strlen(fc->names[order[i]]));
	}
	dir->len = 4 + fc->nfiles * FW_CFG_DIR_ENTRY_SIZE;
}

int fw_cfg_init(struct fw_cfg *fc, fw_cfg_ram_fn ram, void *ram_opaque)
{
	static const char signature[4] = {'Q', 'E', 'M', 'U'};
	uint8_t id[4];
	pthread_mutexattr_t attr;
	int r;

	memset(fc, 0, sizeof(*fc));
	fc->ram = ram;
	fc->ram_opaque = ram_opaque;
	fc->dir = calloc(1, DIR_ROOM);
	if (!fc->dir)
		return -ENOMEM;
	/* Little endian, as the spec has it. */
	id[0] = FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA;
	id[1] = id[2] = id[3] = 0;
	r = add_copy(fc, FW_CFG_SIGNATURE, signature, sizeof(signature));
	if (r == 0)
		r = add_copy(fc, FW_CFG_ID, id, sizeof(id));
	if (r < 0) {
		for (unsigned i = 0; i < fc->nitems; i++)
			free(fc->items[i].data);
		free(fc->dir);
		memset(fc, 0, sizeof(*fc));
		return r;
	}
	/* The directory item owns fc->dir (freed with the items). */
	fc->items[fc->nitems++] = (struct fw_cfg_item){FW_CFG_FILE_DIR, 4, fc->dir};
	fc->cur = find_item(fc, FW_CFG_SIGNATURE);
	/* Recursive: the select hook runs with the lock held and may call
	 * fw_cfg_update_file, which takes it too. */
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&fc->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	return 0;
}

void fw_cfg_set_select_hook(struct fw_cfg *fc, fw_cfg_select_fn fn, void *opaque)
{
	pthread_mutex_lock(&fc->lock);
	fc->on_select = fn;
	fc->select_opaque = opaque;
	pthread_mutex_unlock(&fc->lock);
}

int fw_cfg_add_item(struct fw_cfg *fc, uint16_t key, const void *data, size_t len)
{
	int r;

	if ((key & FW_CFG_KEY_WRITE) || (!(key & FW_CFG_KEY_ARCH) && key >= FW_CFG_FILE_FIRST))
		return -EINVAL;
	pthread_mutex_lock(&fc->lock);
	if (find_item(fc, key) >= 0)
		r = -EEXIST;
	else if (fc->nitems - fc->nfiles >= FW_CFG_MAX_ITEMS)
		r = -ENOSPC;
	else
		r = add_copy(fc, key, data, len);
	pthread_mutex_unlock(&fc->lock);
	return r;
}

int fw_cfg_add_file(struct fw_cfg *fc, const char *name, const void *data, size_t len)
{
	size_t nlen = name ? strnlen(name, FW_CFG_NAME_MAX) : 0;
	int r;

	if (nlen == 0 || nlen >= FW_CFG_NAME_MAX || len > FW_CFG_ITEM_MAX)
		return -EINVAL;
	pthread_mutex_lock(&fc->lock);
	if (find_file(fc, name) >= 0)
		r = -EEXIST;
	else if (fc->nfiles >= FW_CFG_MAX_FILES)
		r = -ENOSPC;
	else
		r = add_copy(fc, (uint16_t)(FW_CFG_FILE_FIRST + fc->nfiles), data, len);
	if (r == 0) {
		memcpy(fc->names[fc->nfiles], name, nlen + 1);
		fc->nfiles++;
		dir_rebuild(fc);
	}
	pthread_mutex_unlock(&fc->lock);
	return r;
}

int fw_cfg_update_file(struct fw_cfg *fc, const char *name, const void *data, size_t len)
{
	struct fw_cfg_item *it;
	int f, r = 0;

	if (!name)
		return -ENOENT;
	pthread_mutex_lock(&fc->lock);
	f = find_file(fc, name);
	if (f < 0) {
		r = -ENOENT;
		goto out;
	}
	it = &fc->items[find_item(fc, (uint16_t)(FW_CFG_FILE_FIRST + f))];
	if (len != it->len || (len > 0 && !data)) {
		r = -EINVAL;
		goto out;
	}
	if (len > 0)
		memmove(it->data, data, len);
out:
	pthread_mutex_unlock(&fc->lock);
	return r;
}

/* What the selector does (port or DMA): bit 14 is ignored, an unknown key
 * reads as zeros, and a file's owner hears of it before any data flows. */
static void select_key(struct fw_cfg *fc, uint16_t sel)
{
	uint16_t key = sel & (uint16_t)~FW_CFG_KEY_WRITE;

	fc->cur = find_item(fc, key);
	fc->off = 0;
	if (fc->cur >= 0 && fc->on_select && is_file_key(fc, key))
		fc->on_select(fc->select_opaque, fc, fc->names[key - FW_CFG_FILE_FIRST]);
}

/* The selected item's bytes left from the current offset (NULL when
 * none), and how many. */
static const uint8_t *cur_bytes(const struct fw_cfg *fc, uint32_t *left)
{
	const struct fw_cfg_item *it;

	*left = 0;
	if (fc->cur < 0)
		return NULL;
	it = &fc->items[fc->cur];
	if (fc->off >= it->len)
		return NULL;
	*left = it->len - fc->off;
	return it->data + fc->off;
}

static uint8_t data_byte(struct fw_cfg *fc)
{
	uint32_t left;
	const uint8_t *p = cur_bytes(fc, &left);

	if (!p)
		return 0;
	fc->off++;
	return *p;
}

/* A DMA read of len bytes to gpa: the item's bytes from the offset, then
 * zeros past its end (as QEMU). All of [gpa, gpa + len) must be RAM, or
 * nothing is written and the offset stays. Returns the control word. */
static uint32_t dma_read(struct fw_cfg *fc, uint64_t gpa, uint32_t len)
{
	const uint8_t *src;
	uint32_t left, n;
	uint8_t *dst;

	if (len == 0)
		return 0;
	if (gpa > UINT64_MAX - len || !fc->ram)
		return FW_CFG_DMA_CTL_ERROR;
	dst = fc->ram(fc->ram_opaque, gpa, len);
	if (!dst)
		return FW_CFG_DMA_CTL_ERROR;
	src = cur_bytes(fc, &left);
	n = src ? (len < left ? len : left) : 0;
	if (n > 0)
		memcpy(dst, src, n);
	memset(dst + n, 0, len - n);
	fc->off += n;
	return 0;
}

/* Skip: the offset moves on, stopping at the item's end. */
static void dma_skip(struct fw_cfg *fc, uint32_t len)
{
	uint32_t left;

	if (cur_bytes(fc, &left))
		fc->off += len < left ? len : left;
}

/* Run the request whose descriptor is at gpa. A descriptor that is not
 * all RAM is ignored (there is nowhere to report). The descriptor is read
 * once, so a guest changing it meanwhile changes nothing; select, then
 * read, write or skip (QEMU's precedence); the control word is written
 * back last: 0, or FW_CFG_DMA_CTL_ERROR (a target that is not all RAM, a
 * write: moat has no writable items). A target that overlaps the
 * descriptor gets the data first, then the control word. */
static void dma_transfer(struct fw_cfg *fc, uint64_t gpa)
{
	uint8_t raw[FW_CFG_DMA_DESC_SIZE], *desc;
	uint32_t control, length, result = 0;
	uint64_t target;

	if (!fc->ram || gpa > UINT64_MAX - FW_CFG_DMA_DESC_SIZE)
		return;
	desc = fc->ram(fc->ram_opaque, gpa, FW_CFG_DMA_DESC_SIZE);
	if (!desc)
		return;
	memcpy(raw, desc, sizeof(raw));
	control = be32_get(raw);
	length = be32_get(raw + 4);
	target = be64_get(raw + 8);
	if (control & FW_CFG_DMA_CTL_SELECT)
		select_key(fc, (uint16_t)(control >> 16));
	if (control & FW_CFG_DMA_CTL_READ)
		result = dma_read(fc, target, length);
	else if (control & FW_CFG_DMA_CTL_WRITE)
		result = FW_CFG_DMA_CTL_ERROR;
	else if (control & FW_CFG_DMA_CTL_SKIP)
		dma_skip(fc, length);
	be32_put(desc, result);
}

static void io_read(struct fw_cfg *fc, unsigned reg, uint8_t *data, unsigned len)
{
	static const char dma_sig[8] = FW_CFG_DMA_SIGNATURE;

	for (unsigned j = 0; j < len; j++) {
		unsigned r = reg + j;

		if (reg < 2)
			data[j] = data_byte(fc); /* a wide read: successive bytes */
		else if (r >= 4 && r < FW_CFG_PORTS)
			data[j] = (uint8_t)dma_sig[r - 4];
		else
			data[j] = 0xff; /* 0x512-0x513, or past 0x51B */
	}
}

static void io_write(struct fw_cfg *fc, unsigned reg, const uint8_t *data, unsigned len)
{
	if (reg == 0 && len == 2) {
		select_key(fc, (uint16_t)(data[0] | data[1] << 8));
	} else if (reg == 4 && len == 4) {
		fc->dma_hi = be32_get(data);
	} else if (reg == 8 && len == 4) {
		uint64_t gpa = (uint64_t)fc->dma_hi << 32 | be32_get(data);

		fc->dma_hi = 0; /* the register reads back 0 after a request */
		dma_transfer(fc, gpa);
	}
	/* Anything else (data writes, narrow DMA writes) is ignored. */
}

void fw_cfg_io(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool is_write)
{
	struct fw_cfg *fc = opaque;
	unsigned reg = (unsigned)port - FW_CFG_PORT_SEL;

	if (port < FW_CFG_PORT_SEL || reg >= FW_CFG_PORTS) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&fc->lock);
	if (is_write)
		io_write(fc, reg, data, len);
	else
		io_read(fc, reg, data, len);
	pthread_mutex_unlock(&fc->lock);
}

void fw_cfg_free(struct fw_cfg *fc)
{
	if (!fc || !fc->dir)
		return;
	/* fc->dir is the directory item's data, freed here with the rest. */
	for (unsigned i = 0; i < fc->nitems; i++)
		free(fc->items[i].data);
	pthread_mutex_destroy(&fc->lock);
	memset(fc, 0, sizeof(*fc));
}
