#include "img_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_chain.h"
#include "log.h"
#include "options.h"
#include "resources.h"
#include "run.h"
#include "uids.h"

static void usage(FILE *f)
{
	fputs("Usage: moat img info [--format raw|qcow2|vmdk] [--json] IMAGE\n"
	      "\n"
	      "Show what a disk image is: its format, virtual size, the space it takes on\n"
	      "the host, and its backing chain, each backing file with the same facts. The\n"
	      "image is read by moat-blk in its sandbox, never by this privileged process,\n"
	      "and the chain is followed by the rules of moat run --disk: backing files are\n"
	      "taken relative to the image that names them, must lie in IMAGE's directory\n"
	      "or below it, must be regular files, at most 16 deep and without a loop, and\n"
	      "one whose format is not recorded must be raw. Every file is opened\n"
	      "read-only and locked as QEMU locks a backing file, so this fails while a VM\n"
	      "writes IMAGE (QEMU's 'qemu-img info -U' has no counterpart here).\n"
	      "\n"
	      "Options:\n"
	      "  --format F   read IMAGE as F instead of finding its format from its header\n"
	      "  --json       one JSON object per image of the chain, top first, in an array\n"
	      "  -h, --help   show this text\n"
	      "\n"
	      "Exit status: 0 shown; 1 moat could not run the probe; 2 a bad image, a chain\n"
	      "moat refuses, or a bad option.\n",
	      f);
}

/* "16 MiB" as qemu-img says sizes. */
static void human(uint64_t v, char *out, size_t len)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double d = (double)v;
	unsigned u = 0;

	while (d >= 1024 && u < 6)
		d /= 1024, u++;
	if (u == 0)
		snprintf(out, len, "%" PRIu64 " B", v);
	else
		snprintf(out, len, "%.3g %s", d, unit[u]);
}

/* A string for JSON: the names come from images, so every byte that is
 * not plain printable ASCII is escaped. */
static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static const char *human_of(uint64_t v, char *out, size_t len)
{
	human(v, out, len);
	return out;
}

static uint64_t host_bytes(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
}

static void show_text(const struct mon_chain *c)
{
	for (unsigned i = 0; i < c->n; i++) {
		const struct mon_chain_link *l = &c->link[i];
		char vs[32], ds[32];

		human(l->info.size, vs, sizeof(vs));
		human(host_bytes(l->fd), ds, sizeof(ds));
		if (i)
			putchar('\n');
		printf("image: %s\nfile format: %s\nvirtual size: %s (%" PRIu64
		       " bytes)\ndisk size: %s\n",
		       l->path, mon_format_name(l->format), vs, l->info.size, ds);
		if (l->info.cluster_size)
			printf("cluster_size: %u\n", l->info.cluster_size);
		if (l->format != MON_FORMAT_RAW && !l->info.nextents)
			printf("version: %u\nallocated: %" PRIu64 " bytes\n", l->info.version,
			       l->info.allocated);
		if (l->info.snapshots)
			printf("internal snapshots: %u\n", l->info.snapshots);
		for (unsigned k = 0; k < l->info.nextents; k++)
			printf("extent file %u: %s (%s)\n", k + 1, l->info.extents[k],
			       human_of(host_bytes(c->extent_fd[k]), ds, sizeof(ds)));
		if (l->info.dirty)
			printf("dirty: yes (qemu-img check -r all repairs its refcounts)\n");
		if (l->info.has_backing) {
			printf("backing file: %s\n", l->info.backing_name);
			if (i + 1 < c->n)
				printf("backing file (actual path): %s\n", c->link[i + 1].path);
			printf("backing file format: %s\n", l->info.backing_format[0]
								? l->info.backing_format
								: "(not recorded: raw required)");
		}
	}
}

static void show_json(const struct mon_chain *c)
{
	printf("[");
	for (unsigned i = 0; i < c->n; i++) {
		const struct mon_chain_link *l = &c->link[i];

		printf("%s\n  {\"filename\": ", i ? "," : "");
		json_str(l->path);
		printf(", \"format\": \"%s\", \"virtual-size\": %" PRIu64
		       ", \"actual-size\": %" PRIu64 ", \"cluster-size\": %u, \"version\": %u"
		       ", \"allocated\": %" PRIu64 ", \"snapshots\": %u, \"dirty\": %s",
		       mon_format_name(l->format), l->info.size, host_bytes(l->fd),
		       l->info.cluster_size, l->info.version, l->info.allocated, l->info.snapshots,
		       l->info.dirty ? "true" : "false");
		if (l->info.nextents) {
			printf(", \"extents\": [");
			for (unsigned k = 0; k < l->info.nextents; k++) {
				printf("%s{\"filename\": ", k ? ", " : "");
				json_str(l->info.extents[k]);
				printf(", \"actual-size\": %" PRIu64 "}",
				       host_bytes(c->extent_fd[k]));
			}
			printf("]");
		}
		if (l->info.has_backing) {
			printf(", \"backing-filename\": ");
			json_str(l->info.backing_name);
			printf(", \"backing-filename-format\": ");
			json_str(l->info.backing_format);
			if (i + 1 < c->n) {
				printf(", \"full-backing-filename\": ");
				json_str(c->link[i + 1].path);
			}
		}
		printf("}");
	}
	printf("\n]\n");
}

static int cmd_info(int argc, char **argv)
{
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
					     {"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	struct mon_disk d = {.ro = true, .probe_format = true};
	struct mon_uids uids = {.lock_fd = -1};
	struct mon_chain *c = NULL;
	char err[512] = "";
	bool json = false;
	int opt, fd = -1, rc, status = MON_EXIT_BAD_INPUT;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			if (mon_format_parse(optarg, &d.format) < 0) {
				log_error("--format takes raw, qcow2 or vmdk, not '%s'", optarg);
				return MON_EXIT_BAD_INPUT;
			}
			d.probe_format = false;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return MON_EXIT_OK;
		default:
			usage(stderr);
			return MON_EXIT_BAD_INPUT;
		}
	}
	if (optind + 1 != argc) {
		log_error("moat img info takes one IMAGE (see moat img info --help)");
		return MON_EXIT_BAD_INPUT;
	}
	d.path = argv[optind];
	bool given = !d.probe_format;
	if (mon_open_disk(&d, &fd, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return MON_EXIT_BAD_INPUT;
	}
	c = calloc(1, sizeof(*c));
	rc = c ? mon_uids_reserve(&uids, err, sizeof(err)) : -ENOMEM;
	if (rc < 0) {
		log_error("%s", c ? err : "out of memory");
		status = MON_EXIT_FAILURE;
		goto out;
	}
	rc = mon_chain_resolve(d.path, fd, given, d.format, uids.base, c, err, sizeof(err));
	if (rc < 0) {
		log_error("%s", err);
		status = rc == -EINVAL ? MON_EXIT_BAD_INPUT : MON_EXIT_FAILURE;
		goto out;
	}
	if (json)
		show_json(c);
	else
		show_text(c);
	mon_chain_close(c);
	status = MON_EXIT_OK;
out:
	free(c);
	mon_uids_release(&uids);
	close(fd);
	return status;
}

int mon_img_main(int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return MON_EXIT_OK;
	}
	if (argc < 2 || strcmp(argv[1], "info") != 0) {
		log_error("moat img takes the command info (see moat img --help)");
		return MON_EXIT_BAD_INPUT;
	}
	return cmd_info(argc - 1, argv + 1);
}
