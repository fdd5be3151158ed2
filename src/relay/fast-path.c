/*
 * What both fast paths share (fast-resume.c for rezumable's login,
 * fast-attach.c for `atsr -a`): reaching the user's own running host with no
 * Node process, or handing the very same command line to the full
 * TypeScript path by execv() (the fallback), with the signal state as it
 * was. A fast path trusts only what the kernel says: the directory it holds
 * is the user's own and private, and the socket's listener runs as the user
 * (SO_PEERCRED). Until the host's first output frame nothing is read from or
 * written to the terminal, so the fallback starts from the very same state
 * (docs/security.md, "The fast paths").
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
/* MAX_SOCKET_PATH_BYTES (src/session/socket-dir.ts): the full path skips a directory where the socket would not fit. */
#define MAX_SOCKET_PATH_BYTES 107

/* The relay's own handlers, put back as they were before the fallback's exec. */
static const int HANDLED[] = {SIGPIPE, SIGWINCH, SIGHUP, SIGTERM, SIGINT, SIGQUIT};
#define HANDLED_COUNT (sizeof HANDLED / sizeof HANDLED[0])
static struct sigaction saved_actions[HANDLED_COUNT];
static sigset_t saved_mask;

void fast_save_signals(void) {
  sigprocmask(SIG_SETMASK, NULL, &saved_mask);
  for (size_t i = 0; i < HANDLED_COUNT; i++) sigaction(HANDLED[i], NULL, &saved_actions[i]);
}

static void restore_signals(void) {
  for (size_t i = 0; i < HANDLED_COUNT; i++) sigaction(HANDLED[i], &saved_actions[i], NULL);
  sigprocmask(SIG_SETMASK, &saved_mask, NULL);
}

void fast_fall_back(struct fast_path *f) {
  if (f->sock >= 0) close(f->sock);
  restore_signals();
  execv(f->fallback_file, f->fallback);
  fprintf(stderr, "atsr: cannot run %s: %s\n", f->fallback_file, strerror(errno));
  _exit(127);
}

int fast_relay(struct fast_path *f) {
  relay_set_reset((const unsigned char *)f->reset, strlen(f->reset));
  relay_set_handlers();
  return relay_session(f->sock, f->attach.data, f->attach.len, f);
}

static int is_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '@' || c == '+' || c == '-';
}

int is_session_name(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > MAX_NAME_LENGTH) return 0;
  if (s[0] == '.' || s[0] == '@' || s[0] == '+' || s[0] == '-') return 0;
  for (size_t i = 0; i < n; i++)
    if (!is_name_char(s[i])) return 0;
  return strstr(s, "..") == NULL;
}

int may_take_fast_path(void) {
  const char *own = getenv("ATSR_SESSION");
  const char *front = getenv("ATSR_FRONT_PROTOCOL"); /* a test knob that forces the TypeScript front */
  return isatty(0) && (own == NULL || own[0] == '\0') && (front == NULL || strcmp(front, "1") != 0);
}

/*
 * An absolute path as Node's path.resolve() leaves it: no empty, "." or ".."
 * component and no trailing '/'. The full path resolves such spellings by
 * text, the kernel by following symlinks, so only this form is taken here.
 */
static int is_plain_absolute(const char *p) {
  if (p[0] != '/' || strcmp(p, "/") == 0) return 0;
  for (const char *c = p; *c; c++) {
    if (*c != '/') continue;
    const char *next = c + 1;
    size_t len = strcspn(next, "/");
    if (len == 0 || (len == 1 && next[0] == '.') || (len == 2 && next[0] == '.' && next[1] == '.')) return 0;
  }
  return 1;
}

/* `dir` when the kernel says it is the caller's, with no group or other permissions; else closed, and -1. */
static int own_private_or_close(int dir) {
  struct stat st;
  if (dir < 0 || (fstat(dir, &st) == 0 && st.st_uid == getuid() && (st.st_mode & 077) == 0)) return dir;
  close(dir);
  return -1;
}

/* A shared root as the full path accepts it: root's or the caller's, world-writable only with the sticky bit. */
static int is_usable_shared_root(int dir) {
  struct stat st;
  if (fstat(dir, &st) < 0 || (st.st_uid != 0 && st.st_uid != getuid())) return 0;
  return !((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX));
}

/* `path`'s last component opened with O_NOFOLLOW inside its parent (opened as the path names it); -1 on failure. */
static int open_last_level(const char *path) {
  char parent[PATH_MAX];
  const char *slash = strrchr(path, '/');
  size_t n = (size_t)(slash - path);
  if (n >= sizeof parent) return -1;
  memcpy(parent, path, n);
  parent[n] = '\0';
  int up = open(n == 0 ? "/" : parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (up < 0) return -1;
  int dir = openat(up, slash + 1, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  close(up);
  return dir;
}

/* Whether the full path would put `name`'s socket in `dir` (its length fits a Unix socket). */
static int socket_fits(const char *dir, const char *name) { return strlen(dir) + 1 + strlen(name) <= MAX_SOCKET_PATH_BYTES; }

int open_user_dir(const char *path, const char *name) {
  if (!is_plain_absolute(path) || !socket_fits(path, name)) return -1;
  return own_private_or_close(open_last_level(path));
}

int open_shared_dir(const char *root, const char *name) {
  char own[PATH_MAX];
  int n = snprintf(own, sizeof own, "%s/%u", root, (unsigned)getuid());
  if (n < 0 || (size_t)n >= sizeof own || !is_plain_absolute(root) || !socket_fits(own, name)) return -1;
  int top = open_last_level(root);
  if (top < 0) return -1;
  int dir = -1;
  /* Another user's directory could hold a symlink to one of the user's other sockets: not even connected to. */
  if (is_usable_shared_root(top)) dir = openat(top, own + strlen(root) + 1, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  close(top);
  return own_private_or_close(dir);
}

/* Whether the kernel says the listener at the other end runs as this user. */
static int peer_is_own(int sock) {
  struct ucred cred;
  socklen_t len = sizeof cred;
  return getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && len == sizeof cred && cred.uid == getuid();
}

int connect_own_host(int dir, const char *name) {
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

static const char *env_or_empty(const char *name) {
  const char *v = getenv(name);
  return v ? v : "";
}

void client_fields_now(struct client_fields *c) {
  /* The terminal's size as the front reads it (stdout's), 24x80 when unknown. */
  struct winsize ws = {0};
  if (ioctl(1, TIOCGWINSZ, &ws) < 0 && ioctl(0, TIOCGWINSZ, &ws) < 0) ws.ws_row = ws.ws_col = 0;
  c->rows = ws.ws_row ? ws.ws_row : 24;
  c->cols = ws.ws_col ? ws.ws_col : 80;
  c->client_addr = env_or_empty("SSH_CLIENT");
  c->client_addr_len = strcspn(c->client_addr, " ");
  c->agent_socket = env_or_empty("SSH_AUTH_SOCK");
  c->term = env_or_empty("TERM");
}
