#include "i8042.h"

#include <string.h>

#define PORT_DATA    0x60
#define STR_OBF	     0x01
#define STR_SYSFLAG  0x04
#define STR_CMD	     0x08
#define STR_AUXDATA  0x20
#define CMD_RCTR     0x20
#define CMD_WCTR     0x60
#define CMD_AUX_DIS  0xa7
#define CMD_AUX_EN   0xa8
#define CMD_AUX_TEST 0xa9
#define CMD_SELFTEST 0xaa
#define CMD_KBD_TEST 0xab
#define CMD_KBD_DIS  0xad
#define CMD_KBD_EN   0xae
#define CMD_AUX_LOOP 0xd3
#define CMD_AUX_SEND 0xd4
#define CMD_RESET    0xfe
/* What a device byte gets when no device is there to take it. */
#define DEV_NAK 0xfe

void i8042_init(struct i8042 *k, i8042_reset_fn reset, void *opaque)
{
	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->lock, NULL);
	k->reset = reset;
	k->opaque = opaque;
	k->ctr = 0x30; /* both ports disabled, no interrupts: nothing to deliver */
}

static void push(struct i8042 *k, uint8_t v, bool aux)
{
	k->out = v;
	k->out_full = true;
	k->out_aux = aux;
}

/* Returns true when the command asks for a machine reset. */
static bool command(struct i8042 *k, uint8_t cmd)
{
	switch (cmd) {
	case CMD_RCTR:
		push(k, k->ctr, false);
		break;
	case CMD_WCTR:
	case CMD_AUX_LOOP:
	case CMD_AUX_SEND:
		k->pending = cmd;
		break;
	case CMD_SELFTEST:
		push(k, 0x55, false);
		break;
	case CMD_KBD_TEST:
	case CMD_AUX_TEST:
		push(k, 0x00, false);
		break;
	case CMD_AUX_DIS:
		k->ctr |= 0x20;
		break;
	case CMD_AUX_EN:
		k->ctr &= ~0x20;
		break;
	case CMD_KBD_DIS:
		k->ctr |= 0x10;
		break;
	case CMD_KBD_EN:
		k->ctr &= ~0x10;
		break;
	case CMD_RESET:
		return true;
	default:
		break; /* unknown commands are ignored, as by many real controllers */
	}
	return false;
}

static void data_write(struct i8042 *k, uint8_t v)
{
	switch (k->pending) {
	case CMD_WCTR:
		k->ctr = v;
		break;
	case CMD_AUX_LOOP:
		push(k, v, true);
		break;
	case CMD_AUX_SEND:
		push(k, DEV_NAK, true);
		break;
	default:
		/* A byte for the keyboard, and there is none: refuse it at once
		 * (a NAK), so that firmware polling for the ACK gives up now
		 * rather than after its timeout (SeaBIOS waits a second). */
		push(k, DEV_NAK, false);
		break;
	}
	k->pending = 0;
}

void i8042_io(void *opaque, uint16_t port, uint8_t *data, unsigned len, bool is_write)
{
	struct i8042 *k = opaque;
	bool reset = false;

	pthread_mutex_lock(&k->lock);
	if (is_write) {
		if (port == PORT_DATA)
			data_write(k, data[0]);
		else
			reset = command(k, data[0]);
	} else {
		memset(data, 0, len);
		if (port == PORT_DATA) {
			data[0] = k->out;
			k->out_full = false;
		} else {
			data[0] = STR_SYSFLAG | STR_CMD | (k->out_full ? STR_OBF : 0) |
				  (k->out_full && k->out_aux ? STR_AUXDATA : 0);
		}
	}
	pthread_mutex_unlock(&k->lock);
	if (reset && k->reset)
		k->reset(k->opaque);
}
