/* Crash consistency of qcow2 writes (qcow2.h's order): a child writes,
 * zeroes and discards random ranges through the qcow2 blk_image without
 * end and is SIGKILLed at a random moment, many times over the same
 * images; after every kill qemu-img check must find no corruption (leaks
 * are allowed and counted) and the image must open and read again. */
#include <endian.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "test_qcow2_fixture.h"

#define ITERATIONS 80

/* The child: random work on name until killed. */
static void child_work(const char *name, unsigned seed)
{
	static uint8_t buf[256 * 1024];
	struct timg t;

	if (topen_q(&t, name, false, NULL) < 0)
		_exit(10);
	for (unsigned n = 0;; n++) {
		uint64_t size = blk_image_size(t.img);
		uint64_t len = (1 + rand_r(&seed) % 256) * 512ull;
		uint64_t off = (rand_r(&seed) % (size / 512)) * 512ull;
		unsigned what = rand_r(&seed) % 10;
		int rc;

		if (off + len > size)
			len = size - off;
		memset(buf, (uint8_t)n, len);
		if (what == 0)
			rc = blk_image_write_zeroes(t.img, off, len);
		else if (what == 1)
			rc = blk_image_discard(t.img, off, len);
		else
			rc = img_wr(t.img, buf, len, off);
		/* a full refcount table (512-byte clusters) is the only failure
		 * that may happen */
		if (rc < 0 && rc != -ENOSPC)
			_exit(11);
	}
}

static int test_sigkill(void)
{
	const char *names[] = {"c512.qcow2", "v2.qcow2", "comp.qcow2", "ext.qcow2"};
	unsigned seed = (unsigned)time(NULL), leaks = 0;

	NEED_QEMU();
	CHECK(sh("qemu-img create -q -f qcow2 -o cluster_size=512 c512.qcow2 24M") == 0);
	CHECK(sh("qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=4k v2.qcow2 16M") == 0);
	CHECK(sh("qemu-img create -q -f raw src.raw 8M") == 0);
	CHECK(sh("for i in $(seq 1 60000); do echo \"text $i\"; done | dd of=src.raw conv=notrunc "
		 "status=none") == 0);
	CHECK(sh("qemu-img create -q -f qcow2 -o extended_l2=on,cluster_size=16k ext.qcow2 16M") ==
	      0);
	CHECK(sh("qemu-img convert -c -O qcow2 -o cluster_size=4k src.raw comp.qcow2") == 0);
	printf("# seed %u\n", seed);
	for (unsigned i = 0; i < ITERATIONS; i++) {
		const char *name = names[i % 4];
		unsigned delay = 2000 + rand_r(&seed) % 40000;
		int st, rc;
		pid_t pid = fork();

		CHECK(pid >= 0);
		if (pid == 0)
			child_work(name, seed + i);
		usleep(delay);
		kill(pid, SIGKILL);
		CHECK(waitpid(pid, &st, 0) == pid);
		if (!WIFSIGNALED(st))
			fprintf(stderr, "iteration %u: child exited %d\n", i, WEXITSTATUS(st));
		CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
		rc = qcheck(name);
		if (rc != 0 && rc != 3)
			fprintf(stderr,
				"iteration %u (%s, %u us): qemu-img check gave %d; see %s/log\n", i,
				name, delay, rc, tdir);
		CHECK(rc == 0 || rc == 3);
		leaks += rc == 3;
		{
			uint8_t b[4096];
			struct timg t;

			CHECK(topen_q(&t, name, true, NULL) == 0);
			CHECK(img_rd(t.img, b, sizeof(b), 0) == 0);
			tclose(&t);
		}
	}
	printf("# %u kills, %u left leaked clusters\n", ITERATIONS, leaks);
	{
		/* did the 512-byte image's refcount table grow under the kills? */
		char p[128];
		uint32_t n = 0;
		int fd = open(tpath(p, sizeof(p), "c512.qcow2"), O_RDONLY);

		CHECK(fd >= 0 && pread(fd, &n, 4, 56) == 4);
		close(fd);
		printf("# c512.qcow2: refcount table of %u clusters\n", be32toh(n));
	}
	tmp_cleanup();
	return 0;
}

static const struct test_case tests[] = {
    TEST(test_sigkill),
};

int main(void)
{
	return run_tests(tests, sizeof(tests) / sizeof(tests[0]));
}
