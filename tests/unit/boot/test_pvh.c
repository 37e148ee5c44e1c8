/* Unit tests for vcpu/boot/pvh.c: a synthesised vmlinux-like ELF with a Xen
 * PVH note, hostile variants of it, and the hvm_start_info writer. When
 * MOAT_TEST_VMLINUX names an uncompressed kernel, that one is parsed too. */
#include <errno.h>
#include <stdint.h>

#include "bytes.h"
#include "img_buf.h"
#include "pvh.h"
#include "tap.h"
#include "util.h"

/* File layout of the synthetic ELF. */
#define PHOFF	  64
#define NOTE_OFF  0x200
#define TEXT_OFF  0x1000
#define TEXT_SIZE 0x800
#define DATA_OFF  0x1800
#define DATA_SIZE 0x200
#define ELF_SIZE  (DATA_OFF + DATA_SIZE)
#define TEXT_PA	  0x1000000ULL
#define DATA_PA	  0x2000000ULL
#define ENTRY	  0x1000100U

static void put_phdr(uint8_t *img, unsigned i, uint32_t type, uint64_t off, uint64_t pa,
		     uint64_t filesz, uint64_t memsz, uint64_t align)
{
	uint8_t *p = img + PHOFF + 56 * i;

	le32_put(p, type);
	le32_put(p + 4, 5);
	le64_put(p + 8, off);
	le64_put(p + 16, pa | 0xffffffff80000000ULL);
	le64_put(p + 24, pa);
	le64_put(p + 32, filesz);
	le64_put(p + 40, memsz);
	le64_put(p + 48, align);
}

/* One note at p; returns the bytes it takes (4-byte padding). */
static size_t put_note(uint8_t *p, const char *name, uint32_t type, const void *desc,
		       uint32_t descsz)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1;
	size_t npad = (namesz + 3) & ~3u, dpad = (descsz + 3) & ~3u;

	le32_put(p, namesz);
	le32_put(p + 4, descsz);
	le32_put(p + 8, type);
	memcpy(p + 12, name, namesz);
	memcpy(p + 12 + npad, desc, descsz);
	return 12 + npad + dpad;
}

/* The notes: a GNU build id, then Xen's entry as Linux emits it (8 bytes).
 * Returns their total size. */
static size_t put_notes(uint8_t *p)
{
	uint8_t id[20] = {1, 2, 3};
	uint64_t entry = ENTRY;
	size_t n = put_note(p, "GNU", 3, id, sizeof(id));

	return n + put_note(p + n, "Xen", XEN_ELFNOTE_PHYS32_ENTRY, &entry, 8);
}

static void make_elf(uint8_t *img)
{
	size_t notes;

	memset(img, 0, ELF_SIZE);
	memcpy(img, "\177ELF", 4);
	img[4] = 2;
	img[5] = 1;
	img[6] = 1;
	le16_put(img + 16, 2);
	le16_put(img + 18, 62);
	le32_put(img + 20, 1);
	le64_put(img + 24, 0x1000000);
	le64_put(img + 32, PHOFF);
	le16_put(img + 52, 64);
	le16_put(img + 54, 56);
	le16_put(img + 56, 3);
	le16_put(img + 58, 64);
	notes = put_notes(img + NOTE_OFF);
	put_phdr(img, 0, 1, TEXT_OFF, TEXT_PA, TEXT_SIZE, 0x1000, 0x200000);
	put_phdr(img, 1, 1, DATA_OFF, DATA_PA, DATA_SIZE, 0x4000, 0x200000);
	put_phdr(img, 2, 4, NOTE_OFF, TEXT_PA + 0x400, notes, notes, 4);
	for (size_t i = TEXT_OFF; i < ELF_SIZE; i++)
		img[i] = (uint8_t)(i * 7);
}

/* Parse a copy of exactly len bytes on the heap, so that a sanitizer sees
 * any read past the end. */
static int parse_len(const uint8_t *img, size_t len, struct pvh_info *pi, const char **why)
{
	_cleanup_free_ uint8_t *copy = img_copy(img, len);

	return copy ? pvh_parse(copy, len, pi, why) : -ENOMEM;
}

static int test_valid(void)
{
	static uint8_t img[ELF_SIZE];
	struct pvh_info pi;
	const char *why = NULL;

	make_elf(img);
	CHECK(pvh_is_elf(img, sizeof(img)));
	CHECK(pvh_parse(img, sizeof(img), &pi, &why) == 0);
	CHECK(pi.entry == ENTRY);
	CHECK(pi.nseg == 2);
	CHECK(pi.seg[0].paddr == TEXT_PA && pi.seg[0].offset == TEXT_OFF);
	CHECK(pi.seg[0].filesz == TEXT_SIZE && pi.seg[0].memsz == 0x1000);
	CHECK(pi.seg[1].paddr == DATA_PA && pi.seg[1].memsz == 0x4000);
	CHECK(pi.lo == TEXT_PA && pi.hi == DATA_PA + 0x4000);

	/* Xen's own 4-byte form of the note. */
	{
		uint32_t e4 = ENTRY + 4;
		size_t n;

		memset(img + NOTE_OFF, 0, 0x100);
		n = put_note(img + NOTE_OFF, "Xen", XEN_ELFNOTE_PHYS32_ENTRY, &e4, 4);
		le64_put(img + PHOFF + 2 * 56 + 32, n);
		CHECK(pvh_parse(img, sizeof(img), &pi, &why) == 0);
		CHECK(pi.entry == ENTRY + 4);
	}
	return 0;
}

static int test_truncated(void)
{
	static uint8_t img[ELF_SIZE];
	struct pvh_info pi;

	make_elf(img);
	CHECK(!pvh_is_elf(img, 3));
	for (size_t len = 0; len < ELF_SIZE; len++) {
		const char *why = NULL;

		CHECK(parse_len(img, len, &pi, &why) == -EINVAL);
		CHECK(why != NULL);
	}
	CHECK(parse_len(img, ELF_SIZE, &pi, NULL) == 0);
	return 0;
}

static int expect_reject(void (*mutate)(uint8_t *img), int err)
{
	static uint8_t img[ELF_SIZE];
	struct pvh_info pi;
	const char *why = NULL;

	make_elf(img);
	mutate(img);
	if (parse_len(img, sizeof(img), &pi, &why) != err || !why)
		return 1;
	printf("# rejected: %s\n", why);
	return 0;
}

static uint8_t *ph(uint8_t *img, unsigned i)
{
	return img + PHOFF + 56 * i;
}

static void class32(uint8_t *img)
{
	img[4] = 1;
}
static void big_endian(uint8_t *img)
{
	img[5] = 2;
}
static void machine_386(uint8_t *img)
{
	le16_put(img + 18, 3);
}
static void type_dyn(uint8_t *img)
{
	le16_put(img + 16, 3);
}
static void phnum_huge(uint8_t *img)
{
	le16_put(img + 56, 0xFFFF);
}
static void phnum_zero(uint8_t *img)
{
	le16_put(img + 56, 0);
}
static void phoff_out(uint8_t *img)
{
	le64_put(img + 32, ELF_SIZE - 10);
}
static void phoff_wrap(uint8_t *img)
{
	le64_put(img + 32, UINT64_MAX - 55);
}
static void phentsize_small(uint8_t *img)
{
	le16_put(img + 54, 32);
}
static void load_off_wrap(uint8_t *img)
{
	le64_put(ph(img, 0) + 8, UINT64_MAX - 8);
}
static void load_size_huge(uint8_t *img)
{
	le64_put(ph(img, 0) + 32, UINT64_MAX);
	le64_put(ph(img, 0) + 40, UINT64_MAX);
}
static void load_filesz_gt_memsz(uint8_t *img)
{
	le64_put(ph(img, 1) + 40, DATA_SIZE - 1);
}
static void load_pa_wrap(uint8_t *img)
{
	le64_put(ph(img, 1) + 24, UINT64_MAX - 0x100);
}
static void load_overlap(uint8_t *img)
{
	le64_put(ph(img, 1) + 24, TEXT_PA + 0xFFF);
}
static void note_namesz_max(uint8_t *img)
{
	le32_put(img + NOTE_OFF, 0xFFFFFFFF);
}
static void note_descsz_max(uint8_t *img)
{
	le32_put(img + NOTE_OFF + 4, 0xFFFFFFFF);
}
static void note_out(uint8_t *img)
{
	le64_put(ph(img, 2) + 8, ELF_SIZE - 4);
}
static void note_size_wrap(uint8_t *img)
{
	le64_put(ph(img, 2) + 32, UINT64_MAX);
}
static void no_note(uint8_t *img)
{
	le32_put(ph(img, 2), 6);
}
static void no_load(uint8_t *img)
{
	le32_put(ph(img, 0), 6);
	le32_put(ph(img, 1), 6);
}
static void entry_outside(uint8_t *img)
{
	le64_put(img + NOTE_OFF + 36 + 16, 0x3000000);
}
static void entry_in_bss(uint8_t *img)
{
	le64_put(img + NOTE_OFF + 36 + 16, TEXT_PA + TEXT_SIZE);
}
static void entry_high(uint8_t *img)
{
	le64_put(img + NOTE_OFF + 36 + 16, 1ULL << 32);
}
static void entry_bad_size(uint8_t *img)
{
	le32_put(img + NOTE_OFF + 36 + 4, 2);
}

/* The Xen note is the second one: 12 + 4 + 20 = 36 bytes in, its
 * descriptor 16 bytes further. */
static int test_hostile(void)
{
	void (*const mutations[])(uint8_t *) = {
	    class32,	     big_endian,     machine_386,     type_dyn,
	    phnum_huge,	     phnum_zero,     phoff_out,	      phoff_wrap,
	    phentsize_small, load_off_wrap,  load_size_huge,  load_filesz_gt_memsz,
	    load_pa_wrap,    load_overlap,   note_namesz_max, note_descsz_max,
	    note_out,	     note_size_wrap, no_note,	      no_load,
	    entry_outside,   entry_in_bss,   entry_high,      entry_bad_size,
	};

	for (size_t i = 0; i < sizeof(mutations) / sizeof(mutations[0]); i++) {
		if (expect_reject(mutations[i], -EINVAL)) {
			fprintf(stderr, "mutation %zu accepted\n", i);
			return 1;
		}
	}
	return 0;
}

/* 33 PT_LOADs: one too many. The program headers are moved to the end of a
 * bigger file, each segment a page of its own. */
static int test_too_many_segments(void)
{
	enum { N = PVH_MAX_SEGMENTS + 1, OFF = ELF_SIZE, SIZE = OFF + N * 56 };
	static uint8_t img[SIZE];
	struct pvh_info pi;
	const char *why = NULL;

	make_elf(img);
	le64_put(img + 32, OFF);
	le16_put(img + 56, N);
	for (unsigned i = 0; i < N; i++) {
		uint8_t *p = img + OFF + 56 * i;

		le32_put(p, i == 0 ? 4 : 1);
		le64_put(p + 8, i == 0 ? NOTE_OFF : TEXT_OFF);
		le64_put(p + 24, TEXT_PA + 0x1000ULL * i);
		le64_put(p + 32, i == 0 ? 68 : 0x100);
		le64_put(p + 40, i == 0 ? 68 : 0x1000);
	}
	/* The entry note now points into segment 1. */
	le64_put(img + NOTE_OFF + 36 + 16, TEXT_PA + 0x1010);
	CHECK(pvh_parse(img, SIZE, &pi, &why) == 0);
	CHECK(pi.nseg == N - 1);
	le16_put(img + 56, N);
	le32_put(img + OFF, 1);
	le64_put(img + OFF + 24, TEXT_PA + 0x1000ULL * N);
	le64_put(img + OFF + 32, 0x100);
	le64_put(img + OFF + 40, 0x1000);
	/* 33 loads, and the note now only in a section: the count fails first. */
	CHECK(pvh_parse(img, SIZE, &pi, &why) == -E2BIG);
	printf("# rejected: %s\n", why);
	return 0;
}

/* Notes reached through the section table when no PT_NOTE exists. */
static int test_section_notes(void)
{
	enum { SHOFF = ELF_SIZE, SIZE = SHOFF + 3 * 64 };
	static uint8_t img[SIZE];
	struct pvh_info pi;
	const char *why = NULL;
	uint8_t *sh;

	make_elf(img);
	no_note(img);
	CHECK(pvh_parse(img, SIZE, &pi, &why) == -EINVAL);
	le64_put(img + 40, SHOFF);
	le16_put(img + 60, 3);
	sh = img + SHOFF + 64; /* [0] stays the null section */
	le32_put(sh + 4, 1);   /* SHT_PROGBITS */
	le64_put(sh + 24, TEXT_OFF);
	le64_put(sh + 32, TEXT_SIZE);
	sh += 64;
	le32_put(sh + 4, 7); /* SHT_NOTE */
	le64_put(sh + 24, NOTE_OFF);
	le64_put(sh + 32, 68);
	le64_put(sh + 48, 4);
	CHECK(pvh_parse(img, SIZE, &pi, &why) == 0);
	CHECK(pi.entry == ENTRY);

	le64_put(sh + 32, UINT64_MAX - 10);
	CHECK(pvh_parse(img, SIZE, &pi, &why) == -EINVAL);
	le64_put(sh + 32, 68);
	le16_put(img + 60, 0x7FFF);
	CHECK(pvh_parse(img, SIZE, &pi, &why) == -EINVAL);
	le16_put(img + 60, 3);
	le16_put(img + 58, 40);
	CHECK(pvh_parse(img, SIZE, &pi, &why) == -EINVAL);
	return 0;
}

/* Two entry notes that disagree, and a note walk with 8-byte alignment. */
static int test_note_variants(void)
{
	static uint8_t img[ELF_SIZE];
	struct pvh_info pi;
	const char *why = NULL;
	uint64_t e = ENTRY + 8;
	size_t n;

	make_elf(img);
	n = put_notes(img + NOTE_OFF);
	n += put_note(img + NOTE_OFF + n, "Xen", XEN_ELFNOTE_PHYS32_ENTRY, &e, 8);
	le64_put(ph(img, 2) + 32, n);
	CHECK(pvh_parse(img, sizeof(img), &pi, &why) == -EINVAL);
	printf("# rejected: %s\n", why);

	/* An 8-aligned segment: after a 6-byte name ("Linux") the descriptor
	 * starts at 24, the next multiple of 8 from the note's start (4-byte
	 * rules would say 20), and the Xen note follows at 32. */
	memset(img + NOTE_OFF, 0, 0x100);
	le32_put(img + NOTE_OFF, 6);
	le32_put(img + NOTE_OFF + 4, 4);
	le32_put(img + NOTE_OFF + 8, 1);
	memcpy(img + NOTE_OFF + 12, "Linux", 6);
	le32_put(img + NOTE_OFF + 24, 0xDEADBEEF);
	le32_put(img + NOTE_OFF + 32, 4);
	le32_put(img + NOTE_OFF + 36, 8);
	le32_put(img + NOTE_OFF + 40, XEN_ELFNOTE_PHYS32_ENTRY);
	memcpy(img + NOTE_OFF + 44, "Xen", 4);
	le64_put(img + NOTE_OFF + 48, ENTRY);
	le64_put(ph(img, 2) + 32, 56);
	le64_put(ph(img, 2) + 48, 8);
	CHECK(pvh_parse(img, sizeof(img), &pi, &why) == 0);
	CHECK(pi.entry == ENTRY);
	return 0;
}

static uint64_t get64(const uint8_t *p)
{
	return le64_get(p);
}

static int test_start_info(void)
{
	static uint8_t buf[4096];
	const struct e820_entry map[3] = {
	    {0, 0x9FC00, 1}, {0xF0000, 0x10000, 2}, {0x100000, 0x7F00000, 1}};
	struct pvh_boot_args a = {0x20000, 0x7000000, 0x123456, map, 3};
	size_t used = 0;
	const uint64_t gpa = 0x6000;

	memset(buf, 0xAA, sizeof(buf));
	CHECK(pvh_write_start_info(buf, sizeof(buf), gpa, &a, &used) == 0);
	CHECK(used == 56 + 32 + 3 * 24);
	CHECK(le32_get(buf) == 0x336ec578 && le32_get(buf + 4) == 1 && le32_get(buf + 8) == 0);
	CHECK(le32_get(buf + 12) == 1 && get64(buf + 16) == gpa + 56);
	CHECK(get64(buf + 24) == 0x20000 && get64(buf + 32) == 0);
	CHECK(get64(buf + 40) == gpa + 88 && le32_get(buf + 48) == 3 && le32_get(buf + 52) == 0);
	CHECK(get64(buf + 56) == 0x7000000 && get64(buf + 64) == 0x123456);
	CHECK(get64(buf + 72) == 0 && get64(buf + 80) == 0);
	CHECK(get64(buf + 88 + 48) == 0x100000 && get64(buf + 88 + 56) == 0x7F00000);
	CHECK(le32_get(buf + 88 + 64) == 1 && le32_get(buf + 88 + 68) == 0);
	CHECK(buf[used] == 0xAA);

	a.initrd_size = 0;
	CHECK(pvh_write_start_info(buf, sizeof(buf), gpa, &a, &used) == 0);
	CHECK(used == 56 + 3 * 24 && le32_get(buf + 12) == 0 && get64(buf + 16) == 0);
	CHECK(get64(buf + 40) == gpa + 56 && get64(buf + 56 + 24) == 0xF0000);

	CHECK(pvh_write_start_info(buf, used - 1, gpa, &a, &used) == -ENOSPC);
	CHECK(pvh_write_start_info(buf, sizeof(buf), gpa + 4, &a, &used) == -EINVAL);
	CHECK(pvh_write_start_info(buf, sizeof(buf), 0, &a, &used) == -EINVAL);
	CHECK(pvh_write_start_info(buf, sizeof(buf), (1ULL << 32) - 64, &a, &used) == -ERANGE);
	CHECK(pvh_write_start_info(buf, sizeof(buf), UINT64_MAX - 7, &a, &used) == -ERANGE);
	a.nmap = 0;
	CHECK(pvh_write_start_info(buf, sizeof(buf), gpa, &a, &used) == -EINVAL);
	a.nmap = PVH_MEMMAP_MAX + 1;
	CHECK(pvh_write_start_info(buf, sizeof(buf), gpa, &a, &used) == -EINVAL);
	return 0;
}

/* An uncompressed kernel named by MOAT_TEST_VMLINUX (e.g. extracted from
 * Debian's bzImage), parsed and sanity-checked. */
static int test_real_vmlinux(void)
{
	const char *path = getenv("MOAT_TEST_VMLINUX");
	struct pvh_info pi;
	const char *why = "?";
	uint8_t *img = NULL;
	size_t got = 0;

	if (!path || !*path)
		return TEST_SKIP;
	CHECK(img_read_file(path, &img, &got) == 0);
	if (pvh_parse(img, got, &pi, &why) < 0) {
		fprintf(stderr, "%s: %s\n", path, why);
		return 1;
	}
	printf("# %s: PVH entry 0x%x, %u segments spanning [0x%llx, 0x%llx)\n", path, pi.entry,
	       pi.nseg, (unsigned long long)pi.lo, (unsigned long long)pi.hi);
	CHECK(pi.entry >= pi.lo && pi.entry < pi.hi);
	free(img);
	return 0;
}

TAP_MAIN(TEST(test_valid), TEST(test_truncated), TEST(test_hostile), TEST(test_too_many_segments),
	 TEST(test_section_notes), TEST(test_note_variants), TEST(test_start_info),
	 TEST(test_real_vmlinux))
