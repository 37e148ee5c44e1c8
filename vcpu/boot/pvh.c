/* PVH boot: ELF64 vmlinux parser and hvm_start_info writer. */
#include <errno.h>
#include <string.h>

#include "bytes.h"
#include "pvh.h"

/* ELF64 (the System V gABI), only what a vmlinux needs. */
enum {
	EI_CLASS = 4,
	EI_DATA = 5,
	EI_VERSION = 6,
	ELFCLASS64 = 2,
	ELFDATA2LSB = 1,
	EV_CURRENT = 1,
	ET_EXEC = 2,
	EM_X86_64 = 62,
	PT_LOAD = 1,
	PT_NOTE = 4,
	SHT_NOTE = 7,

	EHDR_SIZE = 64,
	EH_TYPE = 16,
	EH_MACHINE = 18,
	EH_VERSION = 20,
	EH_PHOFF = 32,
	EH_SHOFF = 40,
	EH_EHSIZE = 52,
	EH_PHENTSIZE = 54,
	EH_PHNUM = 56,
	EH_SHENTSIZE = 58,
	EH_SHNUM = 60,

	PHDR_SIZE = 56,
	PH_TYPE = 0,
	PH_OFFSET = 8,
	PH_PADDR = 24,
	PH_FILESZ = 32,
	PH_MEMSZ = 40,
	PH_ALIGN = 48,

	SHDR_SIZE = 64,
	SH_TYPE = 4,
	SH_OFFSET = 24,
	SH_SIZE = 32,
	SH_ADDRALIGN = 48,

	NOTE_HDR_SIZE = 12,
};

_Static_assert(PVH_START_INFO_MAX <= 4096, "the start-info block fits in one page");

static int fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -EINVAL;
}

bool pvh_is_elf(const uint8_t *img, size_t len)
{
	return img && len >= 4 && memcmp(img, "\177ELF", 4) == 0;
}

/* What the scan of notes found so far. */
struct entry_note {
	bool found;
	uint32_t entry;
};

static int take_entry(struct entry_note *en, const uint8_t *desc, uint32_t descsz, const char **why)
{
	uint64_t v;

	/* Linux emits the entry as a pointer-sized value (8 bytes on x86-64);
	 * Xen's own definition is 4 bytes. Either way it is a 32-bit address. */
	if (descsz == 4)
		v = le32_get(desc);
	else if (descsz == 8)
		v = le64_get(desc);
	else
		return fail(why, "PVH entry note has a bad size");
	if (v == 0 || v > UINT32_MAX)
		return fail(why, "PVH entry point not a 32-bit physical address");
	if (en->found && en->entry != v)
		return fail(why, "conflicting PVH entry notes");
	en->found = true;
	en->entry = (uint32_t)v;
	return 0;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Walk the notes in p[0..size): a header {namesz, descsz, type}, the name,
 * then the descriptor and the next note each at the next multiple of align
 * (4, or 8 in an 8-aligned segment) from the start. Each step advances at
 * least 12 bytes, so the walk ends; every size is checked against what is
 * left before it is used (size <= the file length, far below 2^63, so the
 * rounding cannot wrap). A tail too short for a header is padding. */
static int scan_notes(const uint8_t *p, uint64_t size, uint64_t align, struct entry_note *en,
		      const char **why)
{
	uint64_t off = 0;

	align = align == 8 ? 8 : 4;
	while (size - off >= NOTE_HDR_SIZE) {
		uint32_t namesz = le32_get(p + off);
		uint32_t descsz = le32_get(p + off + 4);
		uint32_t type = le32_get(p + off + 8);
		uint64_t name_off = off + NOTE_HDR_SIZE, desc_off, next;

		if (namesz > size - name_off)
			return fail(why, "malformed ELF note (name beyond its segment)");
		desc_off = align_up(name_off + namesz, align);
		if (desc_off > size || descsz > size - desc_off)
			return fail(why, "malformed ELF note (descriptor beyond its segment)");
		next = align_up(desc_off + descsz, align);
		off = next < size ? next : size;

		if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 &&
		    !memcmp(p + name_off, "Xen", 4)) {
			int r = take_entry(en, p + desc_off, descsz, why);

			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int check_ehdr(const uint8_t *img, size_t len, const char **why)
{
	if (!pvh_is_elf(img, len))
		return fail(why, "not an ELF file");
	if (len < EHDR_SIZE)
		return fail(why, "truncated ELF header");
	if (img[EI_CLASS] != ELFCLASS64 || img[EI_DATA] != ELFDATA2LSB)
		return fail(why, "not a little-endian 64-bit ELF file");
	if (img[EI_VERSION] != EV_CURRENT || le32_get(img + EH_VERSION) != EV_CURRENT)
		return fail(why, "unknown ELF version");
	if (le16_get(img + EH_TYPE) != ET_EXEC)
		return fail(why, "ELF file is not an executable (ET_EXEC)");
	if (le16_get(img + EH_MACHINE) != EM_X86_64)
		return fail(why, "ELF file is not for x86-64");
	if (le16_get(img + EH_EHSIZE) != EHDR_SIZE)
		return fail(why, "bad ELF header size");
	return 0;
}

static bool seg_overlap(const struct pvh_segment *a, const struct pvh_segment *b)
{
	return a->paddr < b->paddr + b->memsz && b->paddr < a->paddr + a->memsz;
}

/* Check one PT_LOAD and append it to out. Sizes are checked so that
 * offset + filesz and paddr + memsz can be computed without wrapping. */
static int add_load(const uint8_t *ph, size_t len, struct pvh_info *out, const char **why)
{
	struct pvh_segment s = {
	    .paddr = le64_get(ph + PH_PADDR),
	    .offset = le64_get(ph + PH_OFFSET),
	    .filesz = le64_get(ph + PH_FILESZ),
	    .memsz = le64_get(ph + PH_MEMSZ),
	};

	if (s.filesz > s.memsz)
		return fail(why, "PT_LOAD with filesz > memsz");
	if (!bytes_fit(s.offset, s.filesz, len))
		return fail(why, "PT_LOAD beyond the end of the file");
	if (s.memsz == 0)
		return 0;
	if (s.paddr > UINT64_MAX - s.memsz)
		return fail(why, "PT_LOAD wraps around the address space");
	if (out->nseg == PVH_MAX_SEGMENTS) {
		if (why)
			*why = "too many PT_LOAD segments";
		return -E2BIG;
	}
	for (unsigned i = 0; i < out->nseg; i++)
		if (seg_overlap(&out->seg[i], &s))
			return fail(why, "PT_LOAD segments overlap");
	out->seg[out->nseg++] = s;
	return 0;
}

static int scan_phdrs(const uint8_t *img, size_t len, struct pvh_info *out, struct entry_note *en,
		      const char **why)
{
	uint64_t phoff = le64_get(img + EH_PHOFF);
	uint16_t phnum = le16_get(img + EH_PHNUM);
	int r = 0;

	if (le16_get(img + EH_PHENTSIZE) != PHDR_SIZE)
		return fail(why, "bad ELF program header size");
	if (phnum == 0)
		return fail(why, "ELF file has no program headers");
	/* phnum * 56 < 2^22: no overflow. */
	if (!bytes_fit(phoff, (uint64_t)phnum * PHDR_SIZE, len))
		return fail(why, "ELF program headers beyond the end of the file");

	for (unsigned i = 0; i < phnum && r >= 0; i++) {
		const uint8_t *ph = img + phoff + (uint64_t)i * PHDR_SIZE;
		uint32_t type = le32_get(ph + PH_TYPE);
		uint64_t off = le64_get(ph + PH_OFFSET), sz = le64_get(ph + PH_FILESZ);

		if (type == PT_LOAD) {
			r = add_load(ph, len, out, why);
		} else if (type == PT_NOTE) {
			if (!bytes_fit(off, sz, len))
				return fail(why, "PT_NOTE beyond the end of the file");
			r = scan_notes(img + off, sz, le64_get(ph + PH_ALIGN), en, why);
		}
	}
	return r;
}

/* Fallback for files whose notes are not in a PT_NOTE segment. No section
 * table (e_shnum 0, also the escape for more than 0xff00 sections) means
 * nothing to find. */
static int scan_shdrs(const uint8_t *img, size_t len, struct entry_note *en, const char **why)
{
	uint64_t shoff = le64_get(img + EH_SHOFF);
	uint16_t shnum = le16_get(img + EH_SHNUM);
	int r = 0;

	if (shoff == 0 || shnum == 0)
		return 0;
	if (le16_get(img + EH_SHENTSIZE) != SHDR_SIZE)
		return fail(why, "bad ELF section header size");
	if (!bytes_fit(shoff, (uint64_t)shnum * SHDR_SIZE, len))
		return fail(why, "ELF section headers beyond the end of the file");

	for (unsigned i = 0; i < shnum && r >= 0; i++) {
		const uint8_t *sh = img + shoff + (uint64_t)i * SHDR_SIZE;
		uint64_t off = le64_get(sh + SH_OFFSET), sz = le64_get(sh + SH_SIZE);

		if (le32_get(sh + SH_TYPE) != SHT_NOTE)
			continue;
		if (!bytes_fit(off, sz, len))
			return fail(why, "SHT_NOTE section beyond the end of the file");
		r = scan_notes(img + off, sz, le64_get(sh + SH_ADDRALIGN), en, why);
	}
	return r;
}

int pvh_parse(const uint8_t *img, size_t len, struct pvh_info *out, const char **why)
{
	struct pvh_info info = {0};
	struct entry_note en = {0};
	bool inside = false;
	int r;

	if (!out)
		return fail(why, "no output");
	r = check_ehdr(img, len, why);
	if (r < 0)
		return r;
	r = scan_phdrs(img, len, &info, &en, why);
	if (r < 0)
		return r;
	if (info.nseg == 0)
		return fail(why, "ELF file has no PT_LOAD segment");
	if (!en.found) {
		r = scan_shdrs(img, len, &en, why);
		if (r < 0)
			return r;
	}
	if (!en.found)
		return fail(
		    why, "no PVH entry point (Xen ELF note 18): kernel built without CONFIG_PVH?");

	info.entry = en.entry;
	info.lo = UINT64_MAX;
	for (unsigned i = 0; i < info.nseg; i++) {
		const struct pvh_segment *s = &info.seg[i];

		if (s->paddr < info.lo)
			info.lo = s->paddr;
		if (s->paddr + s->memsz > info.hi)
			info.hi = s->paddr + s->memsz;
		if (en.entry >= s->paddr && en.entry - s->paddr < s->filesz)
			inside = true;
	}
	if (!inside)
		return fail(why, "PVH entry point outside the loaded segments");
	*out = info;
	return 0;
}

static void put_memmap(uint8_t *p, const struct e820_entry *e, unsigned n)
{
	for (unsigned i = 0; i < n; i++, p += PVH_MEMMAP_ENTRY_SIZE) {
		le64_put(p, e[i].addr);
		le64_put(p + 8, e[i].size);
		le32_put(p + 16, e[i].type);
		le32_put(p + 20, 0);
	}
}

/* Layout: start_info at 0, the module entry (if any) at 56, the memory map
 * after it; all offsets are multiples of 8, so with buf_gpa 8-aligned every
 * structure is naturally aligned for the guest. */
int pvh_write_start_info(uint8_t *buf, size_t buflen, uint64_t buf_gpa,
			 const struct pvh_boot_args *a, size_t *used)
{
	uint32_t nmod;
	size_t mod_off = PVH_START_INFO_SIZE, map_off, total;

	if (!buf || !a || !used || buf_gpa == 0 || buf_gpa % 8)
		return -EINVAL;
	if (a->nmap == 0 || a->nmap > PVH_MEMMAP_MAX || !a->map)
		return -EINVAL;
	if (a->initrd_size && (!a->initrd_gpa || a->initrd_gpa > UINT64_MAX - a->initrd_size))
		return -EINVAL;
	nmod = a->initrd_size ? 1 : 0;
	map_off = mod_off + (size_t)nmod * PVH_MODLIST_ENTRY_SIZE;
	total = map_off + (size_t)a->nmap * PVH_MEMMAP_ENTRY_SIZE;
	if (total > buflen)
		return -ENOSPC;
	if (buf_gpa > (1ULL << 32) - total)
		return -ERANGE;

	memset(buf, 0, total);
	le32_put(buf + 0, PVH_START_MAGIC);
	le32_put(buf + 4, 1); /* version: has the memory map fields */
	le32_put(buf + 8, 0); /* flags */
	le32_put(buf + 12, nmod);
	le64_put(buf + 16, nmod ? buf_gpa + mod_off : 0);
	le64_put(buf + 24, a->cmdline_gpa);
	le64_put(buf + 32, 0); /* rsdp_paddr: 0, the guest scans 0xE0000-0xFFFFF */
	le64_put(buf + 40, buf_gpa + map_off);
	le32_put(buf + 48, a->nmap);
	if (nmod) {
		le64_put(buf + mod_off, a->initrd_gpa);
		le64_put(buf + mod_off + 8, a->initrd_size);
		/* cmdline_paddr and reserved stay 0 */
	}
	put_memmap(buf + map_off, a->map, a->nmap);
	*used = total;
	return 0;
}
