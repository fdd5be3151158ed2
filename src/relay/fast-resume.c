/*
 * The fast resume: `atsr-relay --resume SOCKET_ROOT -- ATSR-COMMAND...`,
 * which rezumable runs for a client that sent ATSR_ID (docs/security.md,
 * "The relay's fast resume"). A login whose session is already running
 * reaches it with no Node process on the way: the relay finds the user's own
 * host, sends the attach the front would send, and relays.
 *
 * Everything else goes to the full TypeScript path, by execv() of the
 * command line rezumable runs without the fast path, unchanged: a session to
 * create, another user's entry in the way (with its warning), a stale socket,
 * an older host, a nested login, a refused name. The relay trusts only what
 * the kernel says: the directory it holds is the user's own and private, and
 * the socket's listener runs as the user (SO_PEERCRED). Until the host's
 * first output frame nothing is read from or written to the terminal, so the
 * fallback starts from the very same state.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "relay.h"

/* src/session/name.ts */
#define MAX_NAME_LENGTH 64

/* The relay's own handlers, put back as they were before the fallback's exec. */
static const int HANDLED[] = {SIGPIPE, SIGWINCH, SIGHUP, SIGTERM};
#define HANDLED_COUNT (sizeof HANDLED / sizeof HANDLED[0])
static struct sigaction saved_actions[HANDLED_COUNT];
static sigset_t saved_mask;

void resume_save_signals(void) {
  sigprocmask(SIG_SETMASK, NULL, &saved_mask);
  for (size_t i = 0; i < HANDLED_COUNT; i++) sigaction(HANDLED[i], NULL, &saved_actions[i]);
}

static void restore_signals(void) {
  for (size_t i = 0; i < HANDLED_COUNT; i++) sigaction(HANDLED[i], &saved_actions[i], NULL);
  sigprocmask(SIG_SETMASK, &saved_mask, NULL);
}

void resume_fall_back(struct resume *r) {
  if (r->sock >= 0) close(r->sock);
  restore_signals();
  execv(r->fallback[0], r->fallback);
  fprintf(stderr, "atsr-relay: cannot run %s: %s\n", r->fallback[0], strerror(errno));
  _exit(127);
}

static int is_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '@' || c == '+' || c == '-';
}

/* The server's rule for session names (nameProblem): 1-64 of [A-Za-z0-9_.@+-], not starting with . @ + -, no "..". */
static int is_session_name(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > MAX_NAME_LENGTH) return 0;
  if (s[0] == '.' || s[0] == '@' || s[0] == '+' || s[0] == '-') return 0;
  for (size_t i = 0; i < n; i++)
    if (!is_name_char(s[i])) return 0;
  return strstr(s, "..") == NULL;
}

/*
 * Whether this login is one the fast path may take; the full path decides
 * every other one. Any ATSR_SESSION at all: the full path compares it with
 * the socket under every spelling (own-session.ts), and a nested login is
 * rare enough not to need speed.
 */
static int may_take_fast_path(const char *name) {
  const char *own = getenv("ATSR_SESSION");
  const char *front = getenv("ATSR_FRONT_PROTOCOL"); /* a test knob that forces the TypeScript front */
  return name != NULL && is_session_name(name) && isatty(0) && (own == NULL || own[0] == '\0') && (front == NULL || strcmp(front, "1") != 0);
}

/* SOCKET_ROOT/UID held by a descriptor, only when it is the user's own and private; else -1. */
static int open_own_dir(const char *root) {
  char path[PATH_MAX];
  int n = snprintf(path, sizeof path, "%s/%u", root, (unsigned)getuid());
  if (n < 0 || (size_t)n >= sizeof path) return -1;
  int dir = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir < 0) return -1;
  struct stat st;
  /* Another user's directory could hold a symlink to one of the user's other sockets: not even connected to. */
  if (fstat(dir, &st) < 0 || st.st_uid != getuid() || (st.st_mode & 077) != 0) {
    close(dir);
    return -1;
  }
  return dir;
}

/* Whether the kernel says the listener at the other end runs as this user. */
static int peer_is_own(int sock) {
  struct ucred cred;
  socklen_t len = sizeof cred;
  return getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && len == sizeof cred && cred.uid == getuid();
}

/* A connection to the user's own host for `name`, through the held directory; -1 if there is none. */
static int connect_own_host(const char *root, const char *name) {
  int dir = open_own_dir(root);
  if (dir < 0) return -1;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  /* /proc/self/fd/N/NAME: NAME inside the held directory, whatever its path points at now. */
  int n = snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dir, name);
  int sock = -1;
  if (n > 0 && (size_t)n < sizeof addr.sun_path) sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock >= 0 && (connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0 || !peer_is_own(sock))) {
    close(sock);
    sock = -1;
  }
  close(dir);
  return sock;
}

/* The terminal's size as the front reads it (stdout's), 24x80 when unknown. */
static void terminal_size(unsigned *rows, unsigned *cols) {
  struct winsize ws = {0};
  if (ioctl(1, TIOCGWINSZ, &ws) < 0 && ioctl(0, TIOCGWINSZ, &ws) < 0) ws.ws_row = ws.ws_col = 0;
  *rows = ws.ws_row ? ws.ws_row : 24;
  *cols = ws.ws_col ? ws.ws_col : 80;
}

static const char *env_or_empty(const char *name) {
  const char *v = getenv(name);
  return v ? v : "";
}

int resume_prepare(struct resume *r, const char *socket_root) {
  const char *name = getenv("ATSR_ID");
  if (!may_take_fast_path(name)) return -1;
  r->sock = connect_own_host(socket_root, name);
  if (r->sock < 0) return -1;
  struct client_fields c;
  terminal_size(&c.rows, &c.cols);
  c.client_addr = env_or_empty("SSH_CLIENT");
  c.client_addr_len = strcspn(c.client_addr, " ");
  c.agent_socket = env_or_empty("SSH_AUTH_SOCK");
  c.term = env_or_empty("TERM");
  r->reset = terminal_reset_for(c.term);
  return build_resume_attach(&c, &r->attach);
}
