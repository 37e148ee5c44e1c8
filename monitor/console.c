#include "console.h"

#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved_tio;
static bool tio_saved;

void mon_console_restore(void)
{
	if (tio_saved) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
		tio_saved = false;
	}
}

void mon_console_raw(struct mon_console *c)
{
	struct termios t;

	c->raw = false;
	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tio) < 0)
		return;
	t = saved_tio;
	/* Raw input (Ctrl-C goes to the guest), but keep output processing so
	 * moat's own messages still start at the left margin. */
	t.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	t.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_cflag &= ~(CSIZE | PARENB);
	t.c_cflag |= CS8;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) < 0)
		return;
	tio_saved = true;
	c->raw = true;
	atexit(mon_console_restore);
}

size_t mon_console_filter(struct mon_console *c, const uint8_t *in, size_t len, uint8_t *out,
			  bool *quit)
{
	size_t n = 0;

	*quit = false;
	for (size_t i = 0; i < len; i++) {
		uint8_t b = in[i];
		if (c->escaped) {
			c->escaped = false;
			if (b == 'x' || b == 'X') {
				*quit = true;
				return n;
			}
			if (b == CONSOLE_ESCAPE)
				out[n++] = b;
			/* Any other key after the escape is swallowed. */
			continue;
		}
		if (b == CONSOLE_ESCAPE)
			c->escaped = true;
		else
			out[n++] = b;
	}
	return n;
}
