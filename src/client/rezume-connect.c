/*
 * rezume-connect HOST PORT TIMEOUT_SECONDS FAMILY [wait|probe]
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
 * `wait` is for a reconnect while the network is down: rezume starts ssh at
 * once, and this waits for the server instead of failing. It tries a new
 * connection every 25 ms for the first 10 s, every 100 ms until a minute,
 * then every 500 ms; each try lives up to TIMEOUT_SECONDS, and the first
 * that brings the server's first bytes (its SSH- banner, left unread for
 * ssh) is the one passed. So ssh's own start and its second connection are
 * no longer on the way back (docs/rezume.md "Reconnecting"). It gives up
 * only when ssh is gone.
 * `probe` waits the same way and exits 0 instead of passing the socket: for
 * an ssh that must connect by itself (BindAddress), rezume starts it then.
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
#include <time.h>
#include <unistd.h>

#define FAILED 255
/* Tries in flight at once while waiting: 1.6 s of them at 25 ms apart, enough for a slow link's handshake. */
#define MAX_TRIES 64
/* While waiting, a failed name lookup is retried this often. */
#define LOOKUP_RETRY_MS 500

/* Messages word failures as ssh's own do, so that rezume reads them alike. */
static int fail(const char *what, const char *detail) {
  fprintf(stderr, "rezume-connect: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  return FAILED;
}

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* A non-blocking TCP socket with its connect started; -1 with errno set if it failed at once. */
static int start_connect(const struct addrinfo *ai) {
  int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

/* 0 once a started connect has succeeded, else -1 with errno set to why. */
static int connect_result(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return -1;
  errno = err;
  return err == 0 ? 0 : -1;
}

/* ssh expects a blocking socket, as its own connect leaves it. */
static void set_blocking(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
}

/* Connects one address within timeout_ms; returns the socket or -1 with errno set. */
static int connect_within(const struct addrinfo *ai, int timeout_ms) {
  int fd = start_connect(ai);
  if (fd < 0) return -1;
  struct pollfd p = {.fd = fd, .events = POLLOUT};
  int n;
  while ((n = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR) {
  }
  if (n == 0) errno = ETIMEDOUT;
  if (n > 0 && connect_result(fd) == 0) {
    set_blocking(fd);
    return fd;
  }
  int saved = errno;
  close(fd);
  errno = saved;
  return -1;
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

/* How long to wait before the next try, `waited_ms` into the wait. Most
 * outages are short, and each try is one SYN, so try often at first; a long
 * outage (a closed lid) can wait a little longer for its reconnect. */
static long long try_interval_ms(long long waited_ms) {
  if (waited_ms < 10000) return 25;
  if (waited_ms < 60000) return 100;
  return 500;
}

struct try {
  int fd; /* -1: a free slot */
  long long started;
  int connected; /* waiting for the server's first bytes */
};

static void end_try(struct try *t) {
  close(t->fd);
  t->fd = -1;
}

/* Waits until a try brings the server's first bytes; returns that socket, or
 * -1 once ssh (stdout) is gone. The bytes stay unread, for ssh. */
static int wait_for_server(const char *host, const char *port, const struct addrinfo *hints, long timeout_ms) {
  struct try tries[MAX_TRIES];
  for (int i = 0; i < MAX_TRIES; i++) tries[i].fd = -1;
  struct addrinfo *found = NULL, *next_ai = NULL;
  long long start = now_ms(), next_try = start, next_lookup = start;
  for (;;) {
    long long now = now_ms();
    if (!found && now >= next_lookup) {
      /* Looked up until it works, then kept: a lookup into a dead network
       * can block for seconds, and a server's address rarely moves meanwhile. */
      if (getaddrinfo(host, port, hints, &found) != 0) found = NULL;
      next_lookup = now_ms() + LOOKUP_RETRY_MS;
      next_ai = found;
      now = now_ms();
    }
    if (found && now >= next_try) {
      int slot = 0; /* a free slot, or the oldest try */
      for (int i = 0; i < MAX_TRIES; i++) {
        if (tries[i].fd < 0) {
          slot = i;
          break;
        }
        if (tries[i].started < tries[slot].started) slot = i;
      }
      if (tries[slot].fd >= 0) end_try(&tries[slot]);
      tries[slot] = (struct try){.fd = start_connect(next_ai), .started = now, .connected = 0};
      next_ai = next_ai->ai_next ? next_ai->ai_next : found; /* each address in turn */
      next_try = now + try_interval_ms(now - start);
    }
    struct pollfd p[MAX_TRIES + 1];
    int slot_of[MAX_TRIES + 1], n = 0;
    /* ssh's end: POLLHUP once ssh has gone. */
    p[n] = (struct pollfd){.fd = STDOUT_FILENO, .events = 0};
    slot_of[n++] = -1;
    long long wake = found ? next_try : next_lookup;
    for (int i = 0; i < MAX_TRIES; i++) {
      if (tries[i].fd < 0) continue;
      if (now - tries[i].started >= timeout_ms) {
        end_try(&tries[i]);
        continue;
      }
      if (tries[i].started + timeout_ms < wake) wake = tries[i].started + timeout_ms;
      p[n] = (struct pollfd){.fd = tries[i].fd, .events = tries[i].connected ? POLLIN : POLLOUT};
      slot_of[n++] = i;
    }
    int ready = poll(p, n, wake > now ? (int)(wake - now) : 0);
    if (ready < 0 && errno != EINTR) return -1;
    if (ready <= 0) continue;
    if (p[0].revents & (POLLHUP | POLLERR | POLLNVAL)) break;
    for (int k = 1; k < n; k++) {
      if (!p[k].revents) continue;
      struct try *t = &tries[slot_of[k]];
      if (!t->connected) {
        /* Refused or unreachable: the next try comes at its time. */
        if (connect_result(t->fd) == 0) t->connected = 1;
        else end_try(t);
        continue;
      }
      char first;
      if (recv(t->fd, &first, 1, MSG_PEEK) != 1) {
        end_try(t); /* closed before a word: a server starting, or a middlebox */
        continue;
      }
      int fd = t->fd;
      t->fd = -1;
      for (int i = 0; i < MAX_TRIES; i++)
        if (tries[i].fd >= 0) end_try(&tries[i]);
      freeaddrinfo(found);
      set_blocking(fd);
      return fd;
    }
  }
  for (int i = 0; i < MAX_TRIES; i++)
    if (tries[i].fd >= 0) end_try(&tries[i]);
  if (found) freeaddrinfo(found);
  return -1;
}

/* Connects once: each address in turn, as ssh does, within the timeout each. */
static int connect_once(const char *host, const char *port, const struct addrinfo *hints, long timeout_ms) {
  struct addrinfo *found;
  int gai = getaddrinfo(host, port, hints, &found);
  if (gai != 0) {
    fprintf(stderr, "rezume-connect: Could not resolve hostname %s: %s\n", host, gai_strerror(gai));
    return -1;
  }
  int fd = -1, err = 0;
  for (struct addrinfo *ai = found; ai && fd < 0; ai = ai->ai_next) {
    fd = connect_within(ai, (int)timeout_ms);
    if (fd < 0) err = errno;
  }
  freeaddrinfo(found);
  if (fd < 0) fprintf(stderr, "rezume-connect: connect to host %s port %s: %s\n", host, port, strerror(err));
  return fd;
}

int main(int argc, char **argv) {
  if (argc != 5 && argc != 6) return fail("usage: rezume-connect HOST PORT TIMEOUT_SECONDS any|inet|inet6 [wait|probe] (ssh's ProxyCommand with ProxyUseFdpass=yes)", NULL);
  const char *host = argv[1], *port = argv[2], *family = argv[4], *mode = argc == 6 ? argv[5] : "";
  char *end;
  long timeout = strtol(argv[3], &end, 10);
  if (*argv[3] == '\0' || *end != '\0' || timeout < 1 || timeout > INT_MAX / 1000) return fail("timeout must be a whole number of seconds", argv[3]);
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_protocol = IPPROTO_TCP};
  if (strcmp(family, "any") == 0) hints.ai_family = AF_UNSPEC;
  else if (strcmp(family, "inet") == 0) hints.ai_family = AF_INET;
  else if (strcmp(family, "inet6") == 0) hints.ai_family = AF_INET6;
  else return fail("address family must be any, inet or inet6", family);
  int waits = strcmp(mode, "wait") == 0, probes = strcmp(mode, "probe") == 0;
  if (argc == 6 && !waits && !probes) return fail("the last word must be wait or probe", mode);

  if (!waits && !probes) {
    int fd = connect_once(host, port, &hints, timeout * 1000);
    if (fd < 0) return FAILED;
    if (pass_fd(STDOUT_FILENO, fd) < 0) return fail("cannot pass the socket to ssh (is ProxyUseFdpass=yes set?)", strerror(errno));
    return 0;
  }
  int fd = wait_for_server(host, port, &hints, timeout * 1000);
  if (fd < 0) return FAILED; /* whoever waited is gone: nobody to tell */
  if (probes) return 0;
  if (pass_fd(STDOUT_FILENO, fd) < 0) return fail("cannot pass the socket to ssh (is ProxyUseFdpass=yes set?)", strerror(errno));
  return 0;
}
