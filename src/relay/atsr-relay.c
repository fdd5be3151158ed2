/*
 * atsr-relay SOCKET_PATH      (environment: ATSR_RELAY_ATTACH=<hex>)
 * atsr-relay --resume SOCKET_ROOT -- ATSR-COMMAND...   (rezumable: fast-resume.c)
 *
 * The front of an attached session, for as long as the connection lasts
 * (relay-loop.c). The TypeScript front makes every decision (the options,
 * the socket directory's checks, creating the session, the attach request)
 * and then execve()s this relay, so that an attached session costs one Node
 * process (the host), not two (docs/benchmarks.md has the figures). With
 * --resume, rezumable starts it directly, and it either reaches the user's
 * own running host or execs the full atsr command line.
 *
 * Descriptors Node opened are close-on-exec, so the relay connects by path;
 * the front checked the directory, which only the user can change.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "relay.h"

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* The bytes of a hex environment variable (removed from the environment);
 * NULL if it is missing or not hex. *len may be 0. */
static unsigned char *hex_env(const char *name, size_t *len) {
  const char *hex = getenv(name);
  if (!hex) return NULL;
  size_t n = strlen(hex);
  if (n % 2 != 0) return NULL;
  unsigned char *out = malloc(n / 2 + 1);
  if (!out) return NULL;
  for (size_t i = 0; i < n / 2; i++) {
    int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      free(out);
      return NULL;
    }
    out[i] = (unsigned char)(hi << 4 | lo);
  }
  *len = n / 2;
  unsetenv(name);
  return out;
}

static int connect_path(const char *path) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  strcpy(addr.sun_path, path);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  if (connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) {
    int e = errno;
    close(s);
    errno = e;
    return -1;
  }
  return s;
}

/* `atsr-relay SOCKET_PATH`: started by the TypeScript front, which made every decision. */
static int run_for_front(const char *socket_path) {
  size_t attach_len;
  unsigned char *attach = hex_env("ATSR_RELAY_ATTACH", &attach_len);
  if (!attach || attach_len == 0) {
    fprintf(stderr, "atsr-relay: ATSR_RELAY_ATTACH is missing or not hex (atsr starts the relay)\n");
    return EXIT_USAGE;
  }
  size_t len;
  unsigned char *reset = hex_env("ATSR_RELAY_RESET", &len);
  relay_set_reset(reset, reset ? len : 0);
  relay_set_handlers();
  relay_make_terminal_blocking();

  int sock = connect_path(socket_path);
  if (sock < 0) {
    char line[512];
    int n = snprintf(line, sizeof line, "atsr: cannot connect to %s: %s", socket_path, strerror(errno));
    return relay_finish(EXIT_SESSION_LOST, line, (size_t)n);
  }
  return relay_session(sock, attach, attach_len, NULL);
}

/* `atsr-relay --resume SOCKET_ROOT -- ATSR-COMMAND...`: rezumable's fast resume (fast-resume.c). */
static int run_fast_resume(const char *socket_root, char **fallback) {
  struct fast_path r = {.fallback_file = fallback[0], .fallback = fallback, .sock = -1};
  fast_save_signals();
  if (resume_prepare(&r, socket_root) < 0) fast_fall_back(&r);
  return fast_relay(&r);
}

int main(int argc, char **argv) {
  if (argc >= 5 && strcmp(argv[1], "--resume") == 0 && strcmp(argv[3], "--") == 0) return run_fast_resume(argv[2], argv + 4);
  if (argc == 2) return run_for_front(argv[1]);
  fprintf(stderr,
          "usage: atsr-relay SOCKET_PATH (started by atsr, with ATSR_RELAY_ATTACH)\n"
          "       atsr-relay --resume SOCKET_ROOT -- ATSR-COMMAND... (started by rezumable)\n");
  return EXIT_USAGE;
}
