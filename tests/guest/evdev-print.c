/* evdev-print: in the test guest, print the key and absolute-pointer
 * events of every input device, for the display's input tests (a key and
 * a click sent by a VNC client must arrive as the right code and position).
 *
 *   evdev-print [SECONDS]
 *
 * Opens every /dev/input/event* there is at start and prints, one line
 * each, flushed:
 *   evdev: device /dev/input/eventN NAME     once per device opened
 *   evdev: key CODE VALUE                    EV_KEY (1 press, 0 release,
 *                                            2 repeat)
 *   evdev: abs X Y                           at the SYN_REPORT after an
 *                                            ABS_X or ABS_Y change
 * for SECONDS (default: forever). Exits 1 when there is no device, 2 on bad
 * usage. Static, as the initramfs has no C library. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define MAX_DEVS 32

struct dev {
	int x, y, abs_changed;
};

/* Opens every /dev/input/event*; returns how many. */
static int open_all(struct pollfd *pfd)
{
	DIR *d = opendir("/dev/input");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < MAX_DEVS) {
		char path[300], name[128] = "?";
		int fd;

		if (strncmp(e->d_name, "event", 5) != 0)
			continue;
		snprintf(path, sizeof(path), "/dev/input/%s", e->d_name);
		fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "evdev-print: %s: %s\n", path, strerror(errno));
			continue;
		}
		if (ioctl(fd, EVIOCGNAME(sizeof(name) - 1), name) < 0)
			strcpy(name, "?");
		printf("evdev: device %s %s\n", path, name);
		pfd[n].fd = fd;
		pfd[n].events = POLLIN;
		n++;
	}
	closedir(d);
	fflush(stdout);
	return n;
}

/* Prints what one batch of events from a device says. */
static void print_events(const struct input_event *ev, size_t n, struct dev *st)
{
	for (size_t i = 0; i < n; i++) {
		if (ev[i].type == EV_KEY) {
			printf("evdev: key %u %d\n", ev[i].code, ev[i].value);
		} else if (ev[i].type == EV_ABS && ev[i].code == ABS_X) {
			st->x = ev[i].value;
			st->abs_changed = 1;
		} else if (ev[i].type == EV_ABS && ev[i].code == ABS_Y) {
			st->y = ev[i].value;
			st->abs_changed = 1;
		} else if (ev[i].type == EV_SYN && ev[i].code == SYN_REPORT && st->abs_changed) {
			printf("evdev: abs %d %d\n", st->x, st->y);
			st->abs_changed = 0;
		}
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct pollfd pfd[MAX_DEVS];
	struct dev st[MAX_DEVS] = {0};
	long secs = -1;
	time_t end = 0;
	int n;

	if (argc > 2 || (argc == 2 && (secs = strtol(argv[1], NULL, 10)) <= 0)) {
		fprintf(stderr, "usage: evdev-print [SECONDS]\n");
		return 2;
	}
	n = open_all(pfd);
	if (n == 0) {
		fprintf(stderr, "evdev-print: no /dev/input/event* could be opened\n");
		return 1;
	}
	if (secs > 0)
		end = time(NULL) + secs;
	for (;;) {
		int timeout = -1;

		if (secs > 0) {
			time_t now = time(NULL);

			if (now >= end)
				return 0;
			timeout = (int)(end - now) * 1000;
		}
		if (poll(pfd, (nfds_t)n, timeout) < 0 && errno != EINTR) {
			perror("evdev-print: poll");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			struct input_event ev[64];
			ssize_t r;

			if (!(pfd[i].revents & POLLIN))
				continue;
			r = read(pfd[i].fd, ev, sizeof(ev));
			if (r > 0)
				print_events(ev, (size_t)r / sizeof(ev[0]), &st[i]);
		}
	}
}
