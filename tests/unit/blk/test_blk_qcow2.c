/* Unit tests for virtio-blk on a qcow2 image (--disk format=qcow2; and a
 * vmdk one, format=vmdk, read-only, in t_vmdk): the
 * device model (blk_model.c) with the request path going through the
 * image's format (blk_req.c, qcow2.h), as a driver uses it (the virtio
 * fixtures of tests/unit/virtio), on images qemu-img made and qemu-img
 * check and qemu-io judge after us. Also what a qcow2 disk refuses: a
 * malformed image or one with a backing file at create (one line, the
 * user's image at fault), a disk swap. */
#include "blk_fixture.h"
#include "test_qcow2_fixture.h"

#define MiB (1024ull * 1024)

/* The model on tdir/name in format fmt, 2 request queues, the pool. */
static int setup_params(struct vfix *f, struct blk_params p, const char *name, char *err,
			size_t errlen)
{
	char path[128];
	bool ro = p.read_only;
	int rc;

	vfix_init(f, 2, 3, &p.vdev);
	f->img = open(tpath(path, sizeof(path), name), ro ? O_RDONLY : O_RDWR);
	if (f->img < 0)
		return -errno;
	p.image_fd = dup(f->img);
	rc = blk_model_create(&f->m, &p, err, errlen);
	if (rc < 0) {
		close(p.image_fd);
		return rc;
	}
	vfix_attach(f, blk_model_vdev(f->m));
	return driver_up(f, BLK_F_BASE | 1ull << VIRTIO_BLK_F_MQ) == 0 ? 0 : -EIO;
}

static int setup_format(struct vfix *f, enum blk_format fmt, const char *name, bool ro, char *err,
			size_t errlen)
{
	struct blk_params p = {.format = fmt, .read_only = ro, .serial = "q"};

	return setup_params(f, p, name, err, errlen);
}

static int setup_qcow2(struct vfix *f, const char *name, bool ro, char *err, size_t errlen)
{
	return setup_format(f, BLK_FORMAT_QCOW2, name, ro, err, errlen);
}

/* The guest reads what qemu-io wrote, and writes on both queues, with
 * new clusters allocated; after a flush and the model's end, qemu-img
 * check is clean and qemu-io reads the guest's data; what nobody wrote
 * reads as zeros. */
static int t_read_write(void)
{
	struct vfix f;
	char err[256] = "";
	uint32_t ulen;

	CHECK(tmp_setup() == 0);
	CHECK(sh("qemu-img create -q -f qcow2 d.qcow2 64M") == 0);
	CHECK(sh("qemu-io -c 'write -P 0xab 1M 64k' d.qcow2") == 0);
	CHECK(setup_qcow2(&f, "d.qcow2", false, err, sizeof(err)) == 0);
	CHECK(drv_bar_read(&f.drv, f.drv.device + 0, 8) == 64 * MiB / 512);

	uint64_t buf = alloc(&f, 8192);
	CHECK(roundtrip_on(&f, 0, VIRTIO_BLK_T_IN, MiB / 512, buf, 8192, true, &ulen) ==
	      VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 8192; i++)
		CHECK(ram_ptr(&f.ram, buf)[i] == 0xab);
	CHECK(roundtrip_on(&f, 1, VIRTIO_BLK_T_IN, 10 * MiB / 512, buf, 4096, true, &ulen) ==
	      VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 4096; i++)
		CHECK(ram_ptr(&f.ram, buf)[i] == 0);

	/* a new cluster from queue 0, a part of qemu-io's from queue 1 */
	uint64_t w0 = alloc(&f, 65536), w1 = alloc(&f, 512);
	memset(ram_ptr(&f.ram, w0), 0x5a, 65536);
	memset(ram_ptr(&f.ram, w1), 0xc3, 512);
	CHECK(roundtrip_on(&f, 0, VIRTIO_BLK_T_OUT, 20 * MiB / 512, w0, 65536, false, &ulen) ==
	      VIRTIO_BLK_S_OK);
	CHECK(roundtrip_on(&f, 1, VIRTIO_BLK_T_OUT, (MiB + 4096) / 512, w1, 512, false, &ulen) ==
	      VIRTIO_BLK_S_OK);
	CHECK(roundtrip_on(&f, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false, &ulen) == VIRTIO_BLK_S_OK);
	/* and read back through the device */
	CHECK(roundtrip_on(&f, 1, VIRTIO_BLK_T_IN, 20 * MiB / 512, buf, 8192, true, &ulen) ==
	      VIRTIO_BLK_S_OK);
	CHECK(ram_ptr(&f.ram, buf)[8191] == 0x5a);
	teardown(&f);

	CHECK(sh("qemu-img check -q d.qcow2") == 0);
	CHECK(sh("qemu-io -c 'read -P 0x5a 20M 64k' d.qcow2 | grep -q 'read 65536/65536'") == 0);
	CHECK(sh("qemu-io -c 'read -P 0xc3 1052672 512' d.qcow2 | grep -q 'read 512/512'") == 0);
	CHECK(sh("qemu-io -c 'read -P 0xab 1M 4k' d.qcow2 | grep -q 'read 4096/4096'") == 0);
	tmp_cleanup();
	return 0;
}

/* Read-only: reads work, writes fail with IOERR and change nothing. */
static int t_read_only(void)
{
	struct vfix f;
	char err[256] = "";
	uint32_t ulen;

	CHECK(tmp_setup() == 0);
	CHECK(sh("qemu-img create -q -f qcow2 d.qcow2 8M") == 0);
	CHECK(sh("qemu-io -c 'write -P 0x11 0 64k' d.qcow2") == 0);
	CHECK(sh("sha256sum d.qcow2 > before") == 0);
	CHECK(setup_qcow2(&f, "d.qcow2", true, err, sizeof(err)) == 0);
	uint64_t buf = alloc(&f, 512);
	CHECK(roundtrip_on(&f, 0, VIRTIO_BLK_T_IN, 3, buf, 512, true, &ulen) == VIRTIO_BLK_S_OK);
	CHECK(ram_ptr(&f.ram, buf)[0] == 0x11);
	CHECK(roundtrip_on(&f, 0, VIRTIO_BLK_T_OUT, 3, buf, 512, false, &ulen) ==
	      VIRTIO_BLK_S_IOERR);
	teardown(&f);
	CHECK(sh("sha256sum -c --quiet before") == 0);
	tmp_cleanup();
	return 0;
}

/* What create refuses, each with -EINVAL (the user's image) and one line
 * that says qcow2; the descriptor stays the caller's. */
static int t_refused(void)
{
	static const struct {
		const char *make, *want;
	} cases[] = {
	    /* a raw file given as qcow2 */
	    {"head -c 1M /dev/zero > d.qcow2", "qcow2:"},
	    /* a backing file named but none given, writable */
	    {"qemu-img create -q -f raw b.raw 1M && "
	     "qemu-img create -q -f qcow2 -b b.raw -F raw d.qcow2",
	     "backing"},
	    /* encryption */
	    {"qemu-img create -q -f qcow2 --object secret,id=s0,data=pw "
	     "-o encrypt.format=aes,encrypt.key-secret=s0 d.qcow2 1M",
	     "encrypt"},
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vfix f;
		char err[256] = "";

		CHECK(tmp_setup() == 0);
		CHECK(sh("%s", cases[i].make) == 0);
		CHECK(setup_qcow2(&f, "d.qcow2", false, err, sizeof(err)) == -EINVAL);
		CHECK(strncmp(err, "qcow2: ", 7) == 0);
		if (!strstr(err, cases[i].want)) {
			fprintf(stderr, "case %u: '%s' does not say '%s'\n", i, err, cases[i].want);
			return 1;
		}
		CHECK(strchr(err, '\n') == NULL);
		CHECK(fcntl(f.img, F_GETFD) >= 0);
		close(f.img);
		vfix_fini(&f);
		tmp_cleanup();
	}
	return 0;
}

/* A disk swap on a qcow2 disk is refused, and the disk goes on. */
static int t_no_swap(void)
{
	struct vfix f;
	char err[256] = "";
	uint32_t ulen;

	CHECK(tmp_setup() == 0);
	CHECK(sh("qemu-img create -q -f qcow2 d.qcow2 8M && truncate -s 1M new.raw") == 0);
	CHECK(setup_qcow2(&f, "d.qcow2", false, err, sizeof(err)) == 0);
	char path[128];
	int nfd = open(tpath(path, sizeof(path), "new.raw"), O_RDWR);
	CHECK(nfd >= 0);
	CHECK(blk_model_swap(f.m, nfd, false, err, sizeof(err)) == -ENOTSUP);
	CHECK(strstr(err, "qcow2") != NULL);
	close(nfd);
	uint64_t buf = alloc(&f, 512);
	CHECK(roundtrip_on(&f, 0, VIRTIO_BLK_T_IN, 0, buf, 512, true, &ulen) == VIRTIO_BLK_S_OK);
	CHECK(blk_model_sectors(f.m) == 8 * MiB / 512);
	teardown(&f);
	tmp_cleanup();
	return 0;
}

/* DISCARD or WRITE_ZEROES on queue 0 with nseg segments of (sector, num,
 * flags); the status byte, -1 on timeout. */
static int range_op(struct vfix *f, uint32_t type, unsigned nseg, uint64_t sector, uint32_t num,
		    uint32_t flags)
{
	uint64_t segs = alloc(f, 16 * nseg), st = alloc(f, 1);
	uint16_t before = used_idx(f, 0);

	for (unsigned i = 0; i < nseg; i++) {
		uint8_t *p = ram_ptr(&f->ram, segs + 16 * i);
		uint64_t s = htole64(sector);
		uint32_t n = htole32(num), fl = htole32(flags);
		memcpy(p, &s, 8);
		memcpy(p + 8, &n, 4);
		memcpy(p + 12, &fl, 4);
	}
	*ram_ptr(&f->ram, st) = 0xee;
	struct seg sg[3] = {{header(f, type, 0), 16, false}, {segs, 16 * nseg, false}, {st, 1, true}};
	offer(f, 0, sg, 3);
	kick(f, 0);
	f->r[0].used_seen = before;
	if (!wait_used(f, 1))
		return -1;
	f->r[0].used_seen = used_idx(f, 0);
	return *ram_ptr(&f->ram, st);
}

/* A writable qcow2 disk offers DISCARD and WRITE_ZEROES (one segment,
 * aligned to its clusters); a read-only one and a raw one do not, and a
 * raw one answers them UNSUPP. Zeroed clusters read as zeros, discarded
 * ones as anything, and qemu-img check stays clean. Bad segments: more
 * than one, flags other than unmap on WRITE_ZEROES, any on DISCARD, too
 * long, past the end. */
static int t_discard_write_zeroes(void)
{
	struct vfix f;
	char err[256] = "";
	uint64_t offered;
	uint32_t ulen;

	CHECK(tmp_setup() == 0);
	CHECK(sh("qemu-img create -q -f qcow2 -o cluster_size=65536 d.qcow2 16M") == 0);
	CHECK(sh("qemu-io -c 'write -P 0x77 0 1M' d.qcow2") == 0);
	CHECK(setup_qcow2(&f, "d.qcow2", false, err, sizeof(err)) == 0);
	drv_common_write(&f.drv, C_STATUS, 1, 0);
	drv_negotiate(&f.drv, 1ull << VPCI_F_VERSION_1, &offered);
	CHECK(offered & 1ull << VIRTIO_BLK_F_DISCARD);
	CHECK(offered & 1ull << VIRTIO_BLK_F_WRITE_ZEROES);
	uint64_t dev = f.drv.device;
	CHECK(drv_bar_read(&f.drv, dev + offsetof(struct virtio_blk_config, max_discard_sectors),
			   4) == BLK_MAX_DISCARD_SECTORS);
	CHECK(drv_bar_read(&f.drv, dev + offsetof(struct virtio_blk_config, max_discard_seg), 4) ==
	      1);
	CHECK(drv_bar_read(&f.drv,
			   dev + offsetof(struct virtio_blk_config, discard_sector_alignment),
			   4) == 128);
	CHECK(drv_bar_read(&f.drv, dev + offsetof(struct virtio_blk_config, write_zeroes_may_unmap),
			   1) == 1);
	vfix_fresh_rings(&f);
	CHECK(driver_up(&f, BLK_F_BASE | 1ull << VIRTIO_BLK_F_MQ | 1ull << VIRTIO_BLK_F_DISCARD |
				1ull << VIRTIO_BLK_F_WRITE_ZEROES) == 0);

	/* zero the second 64 KiB cluster (with unmap), discard the third */
	CHECK(range_op(&f, VIRTIO_BLK_T_WRITE_ZEROES, 1, 128, 128,
		       VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) == VIRTIO_BLK_S_OK);
	CHECK(range_op(&f, VIRTIO_BLK_T_DISCARD, 1, 256, 128, 0) == VIRTIO_BLK_S_OK);
	uint64_t buf = alloc(&f, 65536);
	CHECK(roundtrip_on(&f, 0, VIRTIO_BLK_T_IN, 128, buf, 65536, true, &ulen) ==
	      VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 65536; i++)
		CHECK(ram_ptr(&f.ram, buf)[i] == 0);
	CHECK(roundtrip_on(&f, 0, VIRTIO_BLK_T_IN, 0, buf, 512, true, &ulen) == VIRTIO_BLK_S_OK);
	CHECK(ram_ptr(&f.ram, buf)[0] == 0x77);

	/* the hostile ones */
	CHECK(range_op(&f, VIRTIO_BLK_T_DISCARD, 2, 0, 8, 0) == VIRTIO_BLK_S_IOERR);
	CHECK(range_op(&f, VIRTIO_BLK_T_DISCARD, 1, 0, 8, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) ==
	      VIRTIO_BLK_S_UNSUPP);
	CHECK(range_op(&f, VIRTIO_BLK_T_WRITE_ZEROES, 1, 0, 8, 2) == VIRTIO_BLK_S_UNSUPP);
	CHECK(range_op(&f, VIRTIO_BLK_T_WRITE_ZEROES, 1, 0, BLK_MAX_DISCARD_SECTORS + 1, 0) ==
	      VIRTIO_BLK_S_IOERR);
	CHECK(range_op(&f, VIRTIO_BLK_T_DISCARD, 1, 16 * 2048 - 8, 16, 0) == VIRTIO_BLK_S_IOERR);
	CHECK(range_op(&f, VIRTIO_BLK_T_DISCARD, 1, UINT64_MAX / 256, 8, 0) ==
	      VIRTIO_BLK_S_IOERR);
	CHECK(roundtrip_on(&f, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false, &ulen) == VIRTIO_BLK_S_OK);
	teardown(&f);
	CHECK(sh("qemu-img check -q d.qcow2") == 0);
	CHECK(sh("qemu-io -c 'read -P 0 64k 64k' d.qcow2 | grep -q 'read 65536/65536'") == 0);
	CHECK(sh("qemu-io -c 'read -P 0x77 512k 512k' d.qcow2 | grep -q 'read 524288/524288'") ==
	      0);

	/* read-only qcow2: not offered */
	CHECK(setup_qcow2(&f, "d.qcow2", true, err, sizeof(err)) == 0);
	drv_common_write(&f.drv, C_STATUS, 1, 0);
	drv_negotiate(&f.drv, 1ull << VPCI_F_VERSION_1, &offered);
	CHECK(!(offered & (1ull << VIRTIO_BLK_F_DISCARD | 1ull << VIRTIO_BLK_F_WRITE_ZEROES)));
	teardown(&f);
	tmp_cleanup();

	/* raw: not offered, and UNSUPP for a driver that sends them anyway */
	CHECK(setup(&f, false) == 0);
	drv_common_write(&f.drv, C_STATUS, 1, 0);
	drv_negotiate(&f.drv, 1ull << VPCI_F_VERSION_1, &offered);
	CHECK(!(offered & (1ull << VIRTIO_BLK_F_DISCARD | 1ull << VIRTIO_BLK_F_WRITE_ZEROES)));
	vfix_fresh_rings(&f);
	CHECK(driver_up(&f, BLK_F_BASE) == 0);
	CHECK(range_op(&f, VIRTIO_BLK_T_WRITE_ZEROES, 1, 0, 8, 0) == VIRTIO_BLK_S_UNSUPP);
	uint8_t b;
	CHECK(pread(f.img, &b, 1, 0) == 1 && b == pattern(0));
	teardown(&f);
	return 0;
}

/* vmdk (--disk format=vmdk): a sparse image qemu-img converted reads as
 * its raw source through the device, both queues; a writable one is
 * refused at create (moat reads vmdk only), as is a qcow2 given as vmdk;
 * no DISCARD or WRITE_ZEROES on a read-only disk. */
static int t_vmdk(void)
{
	struct vfix f;
	char err[256] = "";
	uint64_t offered;
	uint32_t ulen;

	CHECK(tmp_setup() == 0);
	CHECK(sh("qemu-img create -q -f raw src.raw 8M && "
		 "qemu-io -f raw -c 'write -P 0x3c 1M 192k' -c 'write -P 0xc3 6M 4k' src.raw && "
		 "qemu-img convert -f raw -O vmdk src.raw d.vmdk && "
		 "qemu-img create -q -f qcow2 q.qcow2 1M") == 0);
	CHECK(setup_format(&f, BLK_FORMAT_VMDK, "d.vmdk", true, err, sizeof(err)) == 0);
	CHECK(blk_model_sectors(f.m) == 8 * MiB / 512);
	uint64_t buf = alloc(&f, 65536);
	CHECK(roundtrip_on(&f, 0, VIRTIO_BLK_T_IN, (MiB + 128 * 1024) / 512, buf, 65536, true,
			   &ulen) == VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 65536; i++)
		CHECK(ram_ptr(&f.ram, buf)[i] == 0x3c);
	CHECK(roundtrip_on(&f, 1, VIRTIO_BLK_T_IN, 6 * MiB / 512, buf, 8192, true, &ulen) ==
	      VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 8192; i++)
		CHECK(ram_ptr(&f.ram, buf)[i] == (i < 4096 ? 0xc3 : 0));
	CHECK(roundtrip_on(&f, 0, VIRTIO_BLK_T_OUT, 0, buf, 512, false, &ulen) ==
	      VIRTIO_BLK_S_IOERR);
	drv_common_write(&f.drv, C_STATUS, 1, 0);
	drv_negotiate(&f.drv, 1ull << VPCI_F_VERSION_1, &offered);
	CHECK(offered & 1ull << VIRTIO_BLK_F_RO);
	CHECK(!(offered & (1ull << VIRTIO_BLK_F_DISCARD | 1ull << VIRTIO_BLK_F_WRITE_ZEROES)));
	teardown(&f);

	CHECK(setup_format(&f, BLK_FORMAT_VMDK, "d.vmdk", false, err, sizeof(err)) == -EINVAL);
	CHECK(strncmp(err, "vmdk: ", 6) == 0 && strstr(err, "read-only"));
	close(f.img);
	vfix_fini(&f);
	CHECK(setup_format(&f, BLK_FORMAT_VMDK, "q.qcow2", true, err, sizeof(err)) == -EINVAL);
	CHECK(strncmp(err, "vmdk: ", 6) == 0);
	close(f.img);
	vfix_fini(&f);
	tmp_cleanup();
	return 0;
}

/* A qcow2 overlay over a raw base, the base given as a descriptor
 * (BlkConfig.backing): the guest reads the base through the overlay and
 * writes only the overlay; a partial write to a new cluster keeps the
 * base's bytes around it; qemu-img check is clean, the base unchanged, and
 * qemu-img compare finds the overlay equal to a raw copy of the base given
 * the same write. */
static int t_backing(void)
{
	struct vfix f;
	char err[256] = "", path[128];
	uint32_t ulen;
	struct blk_layer base;

	CHECK(tmp_setup() == 0);
	CHECK(sh("qemu-img create -q -f raw b.raw 16M && qemu-io -f raw -c 'write -P 0x77 0 16M' "
		 "b.raw && sha256sum b.raw > b.sum") == 0);
	CHECK(sh("qemu-img create -q -f qcow2 -b b.raw -F raw d.qcow2") == 0);
	base.fd = open(tpath(path, sizeof(path), "b.raw"), O_RDONLY);
	base.format = BLK_FORMAT_RAW;
	CHECK(base.fd >= 0);
	struct blk_params p = {
	    .format = BLK_FORMAT_QCOW2, .serial = "q", .backing = &base, .nbacking = 1};
	CHECK(setup_params(&f, p, "d.qcow2", err, sizeof(err)) == 0);
	CHECK(drv_bar_read(&f.drv, f.drv.device + 0, 8) == 16 * MiB / 512);
	uint64_t buf = alloc(&f, 8192), w = alloc(&f, 512);
	CHECK(roundtrip_on(&f, 0, VIRTIO_BLK_T_IN, 8, buf, 8192, true, &ulen) == VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 8192; i++)
		CHECK(ram_ptr(&f.ram, buf)[i] == 0x77);
	memset(ram_ptr(&f.ram, w), 0x11, 512);
	CHECK(roundtrip_on(&f, 1, VIRTIO_BLK_T_OUT, 3, w, 512, false, &ulen) == VIRTIO_BLK_S_OK);
	CHECK(roundtrip_on(&f, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false, &ulen) == VIRTIO_BLK_S_OK);
	CHECK(roundtrip_on(&f, 0, VIRTIO_BLK_T_IN, 0, buf, 4096, true, &ulen) == VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 4096; i++)
		CHECK(ram_ptr(&f.ram, buf)[i] == (i / 512 == 3 ? 0x11 : 0x77));
	teardown(&f);
	close(base.fd);
	CHECK(sh("qemu-img check -q d.qcow2") == 0);
	CHECK(sh("sha256sum -c --status b.sum") == 0);
	CHECK(sh("qemu-io -c 'read -P 0x11 1536 512' -c 'read -P 0x77 2048 1M' d.qcow2 | "
		 "grep -q 'read 1048576'") == 0);
	/* the same work on a raw copy of the base: qemu-img compare finds no
	 * difference */
	CHECK(sh("cp b.raw r.raw && qemu-io -f raw -c 'write -P 0x11 1536 512' r.raw >/dev/null && "
		 "qemu-img compare -q d.qcow2 r.raw") == 0);
	tmp_cleanup();
	return 0;
}

/* A raw image found by probing (BlkConfig.probed_raw): a write to sector
 * 0 that would make it read as qcow2 or vmdk fails and writes nothing;
 * any other first sector, and the same bytes further on, are written. */
static int t_sector0_guard(void)
{
	struct vfix f;
	char err[256] = "";
	uint32_t ulen;

	CHECK(tmp_setup() == 0);
	CHECK(sh("head -c 1M /dev/zero > d.raw") == 0);
	struct blk_params p = {.format = BLK_FORMAT_RAW, .serial = "q", .probed_raw = true};
	CHECK(setup_params(&f, p, "d.raw", err, sizeof(err)) == 0);
	uint64_t w = alloc(&f, 4096);
	uint8_t *hdr = ram_ptr(&f.ram, w);
	static const uint8_t magics[][4] = {{'Q', 'F', 'I', 0xfb}, {'K', 'D', 'M', 'V'}};

	for (unsigned m = 0; m < 2; m++) {
		/* a header the format's probe takes: magic, version, sizes */
		CHECK(sh("qemu-img create -q -f %s h.img 1M && head -c 4096 h.img > h.head",
			 m ? "vmdk" : "qcow2") == 0);
		char path[128];
		int hf = open(tpath(path, sizeof(path), "h.head"), O_RDONLY);
		CHECK(hf >= 0 && read(hf, hdr, 4096) == 4096);
		close(hf);
		CHECK(memcmp(hdr, magics[m], 4) == 0);
		CHECK(roundtrip_on(&f, 0, VIRTIO_BLK_T_OUT, 0, w, 4096, false, &ulen) ==
		      VIRTIO_BLK_S_IOERR);
		CHECK(sh("cmp -s -n 4096 d.raw /dev/zero") == 0);
		/* elsewhere it is only data */
		CHECK(roundtrip_on(&f, 1, VIRTIO_BLK_T_OUT, 8, w, 4096, false, &ulen) ==
		      VIRTIO_BLK_S_OK);
	}
	/* an ordinary first sector, in two buffers: written whole */
	memset(hdr, 0xe5, 4096);
	CHECK(roundtrip_on(&f, 0, VIRTIO_BLK_T_OUT, 0, w, 4096, false, &ulen) == VIRTIO_BLK_S_OK);
	CHECK(roundtrip_on(&f, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false, &ulen) == VIRTIO_BLK_S_OK);
	teardown(&f);
	CHECK(sh("head -c 4096 d.raw | tr -d '\\345' | wc -c | grep -qx 0") == 0);
	tmp_cleanup();
	return 0;
}

/* A vmdk descriptor file (monolithicFlat) with its extent file given as a
 * descriptor (BlkConfig.fd_extent): the guest reads the extent's data; a
 * count of extent files other than the descriptor reads is refused. */
static int t_vmdk_desc(void)
{
	struct vfix f;
	char err[256] = "", path[128];
	uint32_t ulen;
	int ext[2];

	CHECK(tmp_setup() == 0);
	CHECK(sh("qemu-img create -q -f raw s.raw 4M && qemu-io -f raw -c 'write -P 0x3c 1M 1M' "
		 "s.raw && qemu-img convert -q -f raw -O vmdk -o subformat=monolithicFlat s.raw "
		 "d.vmdk") == 0);
	ext[0] = ext[1] = open(tpath(path, sizeof(path), "d-flat.vmdk"), O_RDONLY);
	CHECK(ext[0] >= 0);
	for (unsigned n = 0; n <= 2; n += 2) { /* none given, or one too many */
		struct blk_params bad = {
		    .format = BLK_FORMAT_VMDK, .read_only = true, .extent_fds = ext, .nextents = n};
		CHECK(setup_params(&f, bad, "d.vmdk", err, sizeof(err)) == -EINVAL);
		CHECK(strstr(err, "vmdk descriptor: ") && strstr(err, "extent files given"));
		close(f.img);
		vfix_fini(&f);
	}
	struct blk_params p = {
	    .format = BLK_FORMAT_VMDK, .read_only = true, .extent_fds = ext, .nextents = 1};
	CHECK(setup_params(&f, p, "d.vmdk", err, sizeof(err)) == 0);
	CHECK(drv_bar_read(&f.drv, f.drv.device + 0, 8) == 4 * MiB / 512);
	uint64_t buf = alloc(&f, 8192);
	CHECK(roundtrip_on(&f, 1, VIRTIO_BLK_T_IN, (2 * MiB - 4096) / 512, buf, 8192, true,
			   &ulen) == VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 8192; i++)
		CHECK(ram_ptr(&f.ram, buf)[i] == (i < 4096 ? 0x3c : 0));
	teardown(&f);
	close(ext[0]);
	tmp_cleanup();
	return 0;
}

TAP_MAIN(TEST(t_read_write), TEST(t_read_only), TEST(t_refused), TEST(t_no_swap),
	 TEST(t_discard_write_zeroes), TEST(t_vmdk), TEST(t_backing), TEST(t_sector0_guard),
	 TEST(t_vmdk_desc))
