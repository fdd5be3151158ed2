/*
 * rezume-connect HOST PORT TIMEOUT_SECONDS FAMILY
 *
 * ssh's ProxyCommand for rezume, with ProxyUseFdpass=yes: opens the TCP
 * connection to HOST:PORT and hands the connected socket to ssh over stdout
 * (SCM_RIGHTS), then exits. ssh then talks to the server directly; nothing
 * relays its bytes.
 *
 * Why: ssh turns TCP_NODELAY on only once the session is up. Before that,
 * during key exchange and authentication, it writes two packets in a row in
 * places, and Nagle holds the second until the server's delayed ACK (40 ms on
 * Linux): two such stalls added ~50 ms to every reconnect measured here
 * (docs/benchmarks.md). The socket handed over has TCP_NODELAY on from the
 * start, and SO_KEEPALIVE as ssh's TCPKeepAlive default sets it.
 *
 * FAMILY is ssh's AddressFamily: any, inet or inet6. Exit 0 once the socket
 * is passed, 255 (as ssh's own connection failures) otherwise, with one line
 * on stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define FAILED 255

/* Messages word failures as ssh's own do, so that rezume reads them alike. */
static int fail(const char *what, const char *detail) {
  fprintf(stderr, "rezume-connect: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  return FAILED;
}

/* Connects one address within timeout_ms; returns the socket or -1 with errno set. */
static int connect_within(const struct addrinfo *ai, int timeout_ms) {
  int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
    if (errno != EINPROGRESS) goto failed;
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int n;
    while ((n = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR) {
    }
    if (n == 0) {
      errno = ETIMEDOUT;
      goto failed;
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) goto failed;
    if (err != 0) {
      errno = err;
      goto failed;
    }
  }
  fcntl(fd, F_SETFL, flags); /* ssh expects a blocking socket, as its own connect leaves it */
  return fd;
failed: {
  int saved = errno;
  close(fd);
  errno = saved;
  return -1;
}
}

/* Sends fd over the unix socket `to`: one data byte carries it, as ssh's
 * mm_receive_fd expects. An ssh that is gone is an error here, not SIGPIPE. */
static int pass_fd(int to, int fd) {
  char byte = 0;
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union {
    struct cmsghdr hdr;
    char buf[CMSG_SPACE(sizeof(int))];
  } control;
  memset(&control, 0, sizeof control);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
  struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  ssize_t n;
  while ((n = sendmsg(to, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
  }
  return n == 1 ? 0 : -1;
}

int main(int argc, char **argv) {
  if (argc != 5) return fail("usage: rezume-connect HOST PORT TIMEOUT_SECONDS any|inet|inet6 (ssh's ProxyCommand with ProxyUseFdpass=yes)", NULL);
  const char *host = argv[1], *port = argv[2], *family = argv[4];
  char *end;
  long timeout = strtol(argv[3], &end, 10);
  if (*argv[3] == '\0' || *end != '\0' || timeout < 1 || timeout > INT_MAX / 1000) return fail("timeout must be a whole number of seconds", argv[3]);
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_protocol = IPPROTO_TCP};
  if (strcmp(family, "any") == 0) hints.ai_family = AF_UNSPEC;
  else if (strcmp(family, "inet") == 0) hints.ai_family = AF_INET;
  else if (strcmp(family, "inet6") == 0) hints.ai_family = AF_INET6;
  else return fail("address family must be any, inet or inet6", family);

  struct addrinfo *found;
  int gai = getaddrinfo(host, port, &hints, &found);
  if (gai != 0) {
    fprintf(stderr, "rezume-connect: Could not resolve hostname %s: %s\n", host, gai_strerror(gai));
    return FAILED;
  }
  int fd = -1, err = 0;
  /* Each address in turn, as ssh does, within the one timeout each. */
  for (struct addrinfo *ai = found; ai && fd < 0; ai = ai->ai_next) {
    fd = connect_within(ai, (int)timeout * 1000);
    if (fd < 0) err = errno;
  }
  freeaddrinfo(found);
  if (fd < 0) {
    fprintf(stderr, "rezume-connect: connect to host %s port %s: %s\n", host, port, strerror(err));
    return FAILED;
  }
  if (pass_fd(STDOUT_FILENO, fd) < 0) return fail("cannot pass the socket to ssh (is ProxyUseFdpass=yes set?)", strerror(errno));
  return 0;
}
