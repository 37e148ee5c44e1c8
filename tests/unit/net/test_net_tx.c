/* net_tx_parse_hdr (devproc/net/net_tx.c): the offload fields of a guest's
 * TX header against what its driver negotiated, with hostile values: a
 * request for an offload not negotiated, a checksum field outside the
 * frame, GSO without a checksum or segment size, UDP GSO, DATA_VALID on
 * TX, ECN alone. Accepted headers reach the backend as copies with
 * num_buffers 0. */
#include <linux/virtio_net.h>
#include <string.h>

#include "net_model.h"
#include "net_tx.h"
#include "tap.h"

#define LEN 1514

static uint8_t buf[NET_HDR_LEN + LEN];
static struct vq_chain c;
static struct net_tx_frame f;

/* A one-buffer chain: the header given, then LEN bytes of frame. */
static int parse(uint8_t flags, uint8_t gso, uint16_t gso_size, uint16_t csum_start,
		 uint16_t csum_offset, uint64_t features)
{
	memset(buf, 0xab, sizeof(buf));
	buf[0] = flags;
	buf[1] = gso;
	buf[2] = 54, buf[3] = 0; /* hdr_len */
	buf[4] = (uint8_t)gso_size, buf[5] = (uint8_t)(gso_size >> 8);
	buf[6] = (uint8_t)csum_start, buf[7] = (uint8_t)(csum_start >> 8);
	buf[8] = (uint8_t)csum_offset, buf[9] = (uint8_t)(csum_offset >> 8);
	buf[10] = 7, buf[11] = 0; /* num_buffers: garbage on TX */
	memset(&c, 0, sizeof(c));
	c.e[0] = (struct vq_buf){.ptr = buf, .gpa = 0, .len = sizeof(buf), .writable = false};
	c.n = c.n_out = 1;
	c.out_bytes = sizeof(buf);
	return net_tx_parse_hdr(&c, &f, features);
}

#define F(bit)	(1ull << (bit))
#define CSUM	F(VIRTIO_NET_F_CSUM)
#define TSO4	F(VIRTIO_NET_F_HOST_TSO4)
#define TSO6	F(VIRTIO_NET_F_HOST_TSO6)
#define ECN	F(VIRTIO_NET_F_HOST_ECN)
#define NEEDS	VIRTIO_NET_HDR_F_NEEDS_CSUM

static int test_no_offloads(void)
{
	CHECK(parse(0, 0, 0, 0, 0, 0) == 0);
	CHECK(f.len == LEN && f.hdr[10] == 0 && f.hdr[11] == 0);
	CHECK(parse(NEEDS, 0, 0, 34, 16, 0) < 0);
	CHECK(parse(NEEDS, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16, 0) < 0);
	return 0;
}

static int test_csum(void)
{
	CHECK(parse(NEEDS, 0, 0, 34, 16, CSUM) == 0);
	CHECK(f.hdr[0] == NEEDS && f.hdr[6] == 34 && f.hdr[8] == 16);
	/* the checksum field must lie inside the frame */
	CHECK(parse(NEEDS, 0, 0, LEN - 2, 0, CSUM) == 0);
	CHECK(parse(NEEDS, 0, 0, LEN - 1, 0, CSUM) < 0);
	CHECK(parse(NEEDS, 0, 0, 0xffff, 0xffff, CSUM) < 0);
	CHECK(parse(NEEDS, 0, 0, 34, LEN, CSUM) < 0);
	/* DATA_VALID is for the guest's receive side; unknown flags */
	CHECK(parse(VIRTIO_NET_HDR_F_DATA_VALID, 0, 0, 0, 0, CSUM) < 0);
	CHECK(parse(0x80, 0, 0, 0, 0, CSUM | TSO4 | TSO6 | ECN) < 0);
	return 0;
}

static int test_gso(void)
{
	uint64_t all = CSUM | TSO4 | TSO6 | ECN;

	CHECK(parse(NEEDS, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16, CSUM | TSO4) == 0);
	CHECK(f.hdr[1] == VIRTIO_NET_HDR_GSO_TCPV4 && f.hdr[4] == (1448 & 0xff));
	CHECK(parse(NEEDS, VIRTIO_NET_HDR_GSO_TCPV6, 1428, 54, 16, CSUM | TSO6) == 0);
	/* the other family's TSO only */
	CHECK(parse(NEEDS, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16, CSUM | TSO6) < 0);
	CHECK(parse(NEEDS, VIRTIO_NET_HDR_GSO_TCPV6, 1448, 54, 16, CSUM | TSO4) < 0);
	/* GSO needs the checksum offload and a segment size */
	CHECK(parse(0, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16, all) < 0);
	CHECK(parse(NEEDS, VIRTIO_NET_HDR_GSO_TCPV4, 0, 34, 16, all) < 0);
	/* UDP fragmentation offload is never offered; unknown kinds */
	CHECK(parse(NEEDS, VIRTIO_NET_HDR_GSO_UDP, 1448, 34, 6, all) < 0);
	CHECK(parse(NEEDS, 2, 1448, 34, 16, all) < 0);
	CHECK(parse(NEEDS, 0x7f, 1448, 34, 16, all) < 0);
	/* ECN: with HOST_ECN and a TCP GSO only */
	CHECK(parse(NEEDS, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 1448, 34, 16, all) == 0);
	CHECK(parse(NEEDS, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 1448, 34, 16,
		    CSUM | TSO4) < 0);
	CHECK(parse(0, VIRTIO_NET_HDR_GSO_ECN, 0, 0, 0, all) < 0);
	return 0;
}

TAP_MAIN(TEST(test_no_offloads), TEST(test_csum), TEST(test_gso))
