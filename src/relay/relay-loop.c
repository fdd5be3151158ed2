/*
 * The relay loop (the role of dtach's attach.c): sends the attach frame, waits
 * for the host's first frame, puts the terminal in raw mode, and relays:
 * terminal input as input frames, output frames to the terminal, SIGWINCH as
 * resize frames. The host's end frame carries the exit status and a line for
 * stderr, written once the terminal is restored. It holds no session
 * semantics (docs/protocol.md, Part 1, version 2): the in-band handshake, the
 * byte counts, the detach keys and the terminal reset all live in the host.
 * Started by atsr-relay.c (after the TypeScript front, or for rezumable's
 * fast resume) and by atsr-entry.c (the fast attach).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "relay.h"

/* Frame types (src/protocol/frames.ts). */
#define FRAME_INPUT 0x02
#define FRAME_RESIZE 0x04
#define FRAME_OUTPUT 0x42
#define FRAME_END 0x48
/* A front sends at most this much per frame (MAX_FRONT_PAYLOAD_BYTES). */
#define MAX_INPUT 65536
/* An end frame is a status and one line; anything longer is not the host. */
#define MAX_END 65536

/* What the terminal gets when the host goes without its end frame: the
 * command's modes (alternate screen, hidden cursor...) are reset, as the host
 * does before an end that leaves the command running (ATSR_RELAY_RESET). */
static const unsigned char *reset_bytes;
static size_t reset_len;

void relay_set_reset(const unsigned char *bytes, size_t len) {
  reset_bytes = bytes;
  reset_len = len;
}
static struct termios saved_tty;
static int tty_raw = 0;
static volatile sig_atomic_t winch = 0;
static volatile sig_atomic_t quit_signal = 0;

static void on_winch(int sig) { (void)sig; winch = 1; }
static void on_quit(int sig) { quit_signal = sig; }

/* Puts the terminal back as it was. */
static void restore(void) {
  if (tty_raw) tcsetattr(0, TCSADRAIN, &saved_tty);
  tty_raw = 0;
}

/* Writes all of buf to a blocking descriptor; a quit signal ends the wait
 * (a terminal that is not read must not keep the relay from ending). */
static int write_all(int fd, const unsigned char *buf, size_t len) {
  while (len > 0) {
    if (quit_signal) return -1;
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

int relay_finish(int code, const char *line, size_t len) {
  restore();
  if (len > 0) {
    fwrite(line, 1, len, stderr);
    fputc('\n', stderr);
  }
  return code;
}

static int fail(int code, const char *what) { return relay_finish(code, what, strlen(what)); }

/* The host is gone mid-session: the terminal's modes are reset, then the line. */
static int lost(const char *what) {
  if (tty_raw && reset_len > 0) write_all(1, reset_bytes, reset_len);
  return fail(EXIT_SESSION_LOST, what);
}

static void put_header(unsigned char *h, int type, uint32_t len) {
  h[0] = (unsigned char)type;
  h[1] = (unsigned char)(len >> 24);
  h[2] = (unsigned char)(len >> 16);
  h[3] = (unsigned char)(len >> 8);
  h[4] = (unsigned char)len;
}

static int enter_raw(void) {
  if (!isatty(0)) return 0;
  if (tcgetattr(0, &saved_tty) < 0) return -1;
  struct termios raw = saved_tty;
  cfmakeraw(&raw);
  if (tcsetattr(0, TCSADRAIN, &raw) < 0) return -1;
  tty_raw = 1;
  return 0;
}

/* Input frames on their way to the host: the socket is non-blocking, so that
 * output is still read while the host is not taking input (its command may
 * be blocked writing output, and only then read its input). */
static unsigned char pending[2 * (HEADER_BYTES + MAX_INPUT)];
static size_t pending_len = 0;

static void queue_resize(void) {
  struct winsize ws;
  if (ioctl(0, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0 || ws.ws_col == 0) return;
  if (pending_len + HEADER_BYTES + 4 > sizeof pending) return; /* the next SIGWINCH brings the size */
  unsigned char *f = pending + pending_len;
  put_header(f, FRAME_RESIZE, 4);
  f[5] = (unsigned char)(ws.ws_row >> 8);
  f[6] = (unsigned char)ws.ws_row;
  f[7] = (unsigned char)(ws.ws_col >> 8);
  f[8] = (unsigned char)ws.ws_col;
  pending_len += HEADER_BYTES + 4;
}

/* Writes what the socket takes now; -1 if the host is gone. */
static int flush_pending(int sock) {
  while (pending_len > 0) {
    ssize_t n = write(sock, pending, pending_len);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return 0;
      return -1;
    }
    memmove(pending, pending + n, pending_len - (size_t)n);
    pending_len -= (size_t)n;
  }
  return 0;
}

/* Node may leave the terminal non-blocking (its stdin stream sets that on
 * the shared file description); the relay blocks on it, and so does the
 * shell that reads it next, so it stays blocking. */
void relay_make_terminal_blocking(void) {
  for (int fd = 0; fd < 2; fd++) {
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && (fl & O_NONBLOCK)) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  }
}

/* Reads frames from the host: output straight to the terminal, an end whole. */
struct host_reader {
  unsigned char header[HEADER_BYTES];
  size_t have_header;
  int type;
  uint32_t remaining;     /* payload bytes of the current frame still to come */
  int in_frame;
  int attached;           /* the host took the attach: its first frame was output */
  int must_attach;        /* a fast path: any other first frame is handed to the full path */
  unsigned char *end;     /* the end frame's payload */
  size_t end_have, end_len;
  int ended;
};

/* host_bytes(): the host did not take a fast path's attach (its first frame was not output). */
#define HOST_DECLINED 1

/* The host's first output frame: from here on the terminal is the relay's. */
static int take_terminal(struct host_reader *r) {
  /* Raw before the first byte reaches the terminal: a client answers the
   * hello at once, and a cooked terminal would echo its reply back. */
  if (r->must_attach) relay_make_terminal_blocking();
  if (enter_raw() < 0) return -1;
  r->attached = 1;
  return 0;
}

/* Returns -1 on a protocol error (with *why set), HOST_DECLINED, or 0. */
static int host_bytes(struct host_reader *r, const unsigned char *p, size_t n, const char **why) {
  while (n > 0 && !r->ended) {
    if (!r->in_frame) {
      size_t take = HEADER_BYTES - r->have_header;
      if (take > n) take = n;
      memcpy(r->header + r->have_header, p, take);
      r->have_header += take;
      p += take;
      n -= take;
      if (r->have_header < HEADER_BYTES) break;
      r->have_header = 0;
      r->type = r->header[0];
      r->remaining = (uint32_t)r->header[1] << 24 | (uint32_t)r->header[2] << 16 | (uint32_t)r->header[3] << 8 | r->header[4];
      r->in_frame = 1;
      if (!r->attached && r->must_attach && r->type != FRAME_OUTPUT) return HOST_DECLINED;
      if (r->type == FRAME_OUTPUT && !r->attached && take_terminal(r) < 0) {
        return *why = "atsr: cannot put the terminal in raw mode", -1;
      }
      if (r->type == FRAME_END) {
        if (r->remaining < 1 || r->remaining > MAX_END) return *why = "atsr: protocol error from the session host: bad end frame", -1;
        r->end = malloc(r->remaining);
        if (!r->end) return *why = "atsr: out of memory", -1;
        r->end_len = r->remaining;
        r->end_have = 0;
      } else if (r->type != FRAME_OUTPUT) {
        return *why = "atsr: protocol error from the session host: unexpected frame", -1;
      }
    }
    size_t take = r->remaining < n ? r->remaining : n;
    if (r->type == FRAME_OUTPUT) {
      /* A slow terminal blocks here, and the host's socket fills: backpressure. */
      if (take > 0 && write_all(1, p, take) < 0) return *why = "", -1;
    } else {
      memcpy(r->end + r->end_have, p, take);
      r->end_have += take;
    }
    p += take;
    n -= take;
    r->remaining -= (uint32_t)take;
    if (r->remaining == 0) {
      r->in_frame = 0;
      if (r->type == FRAME_END) r->ended = 1;
    }
  }
  return 0;
}

/* How long a fast path waits for the host's first frame before the full path takes over (VERSION_QUERY_MS). */
#define FIRST_FRAME_MS 5000

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The poll timeout: none (NULL) once attached; a fast path waits FIRST_FRAME_MS in all for the first frame. */
static const struct timespec *poll_timeout(const struct host_reader *r, long long deadline, struct timespec *ts) {
  if (r->attached || !r->must_attach) return NULL;
  long long left = deadline - now_ms();
  if (left < 0) left = 0;
  ts->tv_sec = (time_t)(left / 1000);
  ts->tv_nsec = (long)(left % 1000) * 1000000L;
  return ts;
}

/* The signals whose handlers only set a flag for the loop. */
static sigset_t loop_signals;

void relay_set_handlers(void) {
  /* execve keeps the signal mask and ignored signals: start from defaults. */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_IGN);
  sigemptyset(&loop_signals);
  sigaddset(&loop_signals, SIGWINCH);
  sigaddset(&loop_signals, SIGHUP);
  sigaddset(&loop_signals, SIGTERM);
  sigaddset(&loop_signals, SIGINT);
  sigaddset(&loop_signals, SIGQUIT);
  struct sigaction sa = {0};
  sa.sa_handler = on_winch;
  sigaction(SIGWINCH, &sa, NULL);
  /* Raw mode turns the terminal's own ^C and ^\ into bytes for the session;
   * these come from kill(1) or timeout(1), and end the relay as SIGTERM does. */
  sa.sa_handler = on_quit;
  sigaction(SIGHUP, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGQUIT, &sa, NULL);
}

/* Hands a fast path to the full one, unless a quit signal came: the exec
 * would lose it, and the full path would attach after all. Returns only
 * then, for the caller to end by that signal. */
static void fall_back(struct fast_path *fast) {
  if (!quit_signal) fast_fall_back(fast);
}

/*
 * Sends the attach on `sock` and relays until the session or the terminal
 * ends; returns the exit code. On a fast path (`fast` set), anything
 * that goes wrong before the host's first output frame is the full path's
 * to handle (fall_back()).
 */
int relay_session(int sock, const unsigned char *attach, size_t attach_len, struct fast_path *fast) {
  if (write_all(sock, attach, attach_len) < 0) {
    if (fast) fall_back(fast);
    if (!quit_signal) return fail(EXIT_SESSION_LOST, "atsr: lost the connection to the session host");
  }
  fcntl(sock, F_SETFL, O_NONBLOCK);

  struct host_reader host = {.must_attach = fast != NULL};
  static unsigned char buf[MAX_END];
  const char *lost_line = "atsr: lost the connection to the session host";
  long long deadline = now_ms() + FIRST_FRAME_MS;
  for (;;) {
    if (quit_signal) break;
    if (winch && host.attached) {
      winch = 0;
      queue_resize();
    }
    if (flush_pending(sock) < 0) return lost(lost_line);
    /* The terminal is read only once the host took the attach (keys typed
     * before a refusal stay there), and only while the host takes input. */
    struct pollfd fds[2] = {{.fd = sock, .events = POLLIN | (pending_len > 0 ? POLLOUT : 0)}, {.fd = 0, .events = POLLIN}};
    int nfds = host.attached && pending_len == 0 ? 2 : 1;
    /* A signal handled after the checks above and before the wait would
     * wait with it until the next byte: the flags are checked again with
     * the signals blocked, and ppoll lets them in only while it waits.
     * Outside this, they stay deliverable, so that a quit still ends a
     * write to a terminal nobody reads. */
    sigset_t deliverable;
    struct timespec ts;
    sigprocmask(SIG_BLOCK, &loop_signals, &deliverable);
    int ready = -1;
    errno = EINTR;
    if (!quit_signal && !(winch && host.attached)) ready = ppoll(fds, (nfds_t)nfds, poll_timeout(&host, deadline, &ts), &deliverable);
    int poll_errno = errno;
    sigprocmask(SIG_SETMASK, &deliverable, NULL);
    if (ready < 0) {
      if (poll_errno == EINTR) continue;
      return fail(EXIT_SESSION_LOST, "atsr: poll failed");
    }
    if (ready == 0 && fast) { /* only a fast path's wait for its first frame times out */
      fall_back(fast);
      break;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(sock, buf, sizeof buf);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0 && fast && !host.attached) {
        fall_back(fast);
        break;
      }
      if (n <= 0) return lost(lost_line);
      const char *why = NULL;
      int got = host_bytes(&host, buf, (size_t)n, &why);
      if (got == HOST_DECLINED) {
        fall_back(fast);
        break;
      }
      if (got < 0) {
        if (*why == '\0') break; /* the terminal is gone: leave the session running */
        return lost(why);
      }
      if (host.ended) return relay_finish(host.end[0], (const char *)host.end + 1, host.end_len - 1);
    }
    if (nfds == 2 && fds[1].revents) {
      ssize_t n = read(0, pending + HEADER_BYTES, MAX_INPUT);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) break; /* the terminal is gone (EOF, EIO): leave the session running */
      put_header(pending, FRAME_INPUT, (uint32_t)n);
      pending_len = HEADER_BYTES + (size_t)n;
    }
  }
  close(sock);
  if (quit_signal && tty_raw) {
    /* Now, not after the output drains: a terminal nobody reads never drains. */
    tcsetattr(0, TCSANOW, &saved_tty);
    tty_raw = 0;
  }
  restore();
  if (quit_signal) {
    signal(quit_signal, SIG_DFL);
    raise(quit_signal);
  }
  return 0;
}

