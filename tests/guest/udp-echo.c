/* udp-echo PORT SECONDS: in the test guest, wait up to SECONDS for one UDP
 * datagram on PORT, print it on stdout (one line, what was received), and
 * answer its sender with "pong:" and the same bytes. For the hostfwd=udp
 * test: the host's datagram must arrive through slirp, and the answer must
 * find its way back. Exit 0 when a datagram came, 1 otherwise. Static, as
 * the initramfs has no C library. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET}, from;
	socklen_t flen = sizeof(from);
	char buf[1500], out[1506];
	int s, secs;
	ssize_t n;

	if (argc != 3) {
		fprintf(stderr, "usage: udp-echo PORT SECONDS\n");
		return 2;
	}
	a.sin_port = htons((uint16_t)atoi(argv[1]));
	secs = atoi(argv[2]);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("udp-echo: bind");
		return 1;
	}
	struct pollfd p = {.fd = s, .events = POLLIN};
	if (poll(&p, 1, secs * 1000) != 1) {
		fprintf(stderr, "udp-echo: nothing in %d s\n", secs);
		return 1;
	}
	n = recvfrom(s, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from, &flen);
	if (n < 0) {
		perror("udp-echo: recvfrom");
		return 1;
	}
	buf[n] = 0;
	printf("%s\n", buf);
	fflush(stdout);
	memcpy(out, "pong:", 5);
	memcpy(out + 5, buf, (size_t)n);
	if (sendto(s, out, (size_t)n + 5, 0, (struct sockaddr *)&from, flen) < 0) {
		perror("udp-echo: sendto");
		return 1;
	}
	return 0;
}
