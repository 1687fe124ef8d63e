/* systemd's notify socket played by a test: a datagram socket bound at a
 * per-process path, named in NOTIFY_SOCKET, and the WATCHDOG=1 datagrams
 * counted as they come. For the liveness tests (test thread only). */
#ifndef PIGLIX_TESTS_NOTIFY_SINK_H
#define PIGLIX_TESTS_NOTIFY_SINK_H

#include <stddef.h>

/* Binds /tmp/piglix-notify-TAG-PID (path gets it) and sets NOTIFY_SOCKET:
 * the socket, or -1. */
int notify_sink_open(const char *tag, char *path, size_t size);
/* The WATCHDOG=1 datagrams received within the next ms milliseconds. */
int notify_sink_kicks(int fd, int ms);

#endif
