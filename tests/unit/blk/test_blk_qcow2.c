/* Unit tests for virtio-blk on a qcow2 image (--disk format=qcow2): the
 * device model (blk_model.c) with the request path going through the
 * image's format (blk_req.c, qcow2.h), as a driver uses it (the virtio
 * fixtures of tests/unit/virtio), on images qemu-img made and qemu-img
 * check and qemu-io judge after us. Also what a qcow2 disk refuses: a
 * malformed image or one with a backing file at create (one line, the
 * user's image at fault), a disk swap. */
#include "blk_fixture.h"
#include "test_qcow2_fixture.h"

#define MiB (1024ull * 1024)

/* The model on tdir/name as qcow2, 2 request queues, the pool. */
static int setup_qcow2(struct vfix *f, const char *name, bool ro, char *err, size_t errlen)
{
	char path[128];
	struct blk_params p = {.format = BLK_FORMAT_QCOW2, .read_only = ro, .serial = "q"};
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
	    {"head -c 1M /dev/zero > d.qcow2", "qcow2 image:"},
	    /* a backing file moat does not follow yet, writable */
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
		CHECK(strncmp(err, "qcow2 image:", 12) == 0);
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

TAP_MAIN(TEST(t_read_write), TEST(t_read_only), TEST(t_refused), TEST(t_no_swap))
