/*
 * The pieces of the native front (one role per file):
 *   atsr-entry.c    main of `atsr`: the fast attach, or exec of the Node executable
 *   atsr-relay.c    main of `atsr-relay`: after the TypeScript front, or rezumable's fast resume
 *   relay-loop.c    the relay between the terminal and the host, until either ends
 *   fast-path.c     what both fast paths share: the kernel's checks, the fallback's exec
 *   fast-resume.c   `atsr-relay --resume`: rezumable's login to a running session
 *   fast-attach.c   `atsr -a NAME`: the options it takes, the directory it looks in
 *   attach-json.c   the version 2 attach frame a fast path builds itself
 */
#ifndef ATSR_RELAY_H
#define ATSR_RELAY_H

#include <stddef.h>

/* Frame types (src/protocol/frames.ts). */
#define FRAME_ATTACH 0x01
#define HEADER_BYTES 5

/* Exit codes (src/cli/exit-codes.ts). */
#define EXIT_USAGE 2
#define EXIT_SESSION_LOST 9

/* A growable byte buffer; on allocation failure `failed` is set and later appends do nothing. */
struct bytes {
  unsigned char *data;
  size_t len, cap;
  int failed;
};

void bytes_put(struct bytes *b, const void *p, size_t n);
void bytes_puts(struct bytes *b, const char *s);

/* What an attach tells the host about this terminal and client (clientFields in attach-session.ts). */
struct client_fields {
  unsigned rows, cols;
  const char *client_addr; /* the first word of SSH_CLIENT */
  size_t client_addr_len;
  const char *agent_socket;
  const char *term;
};

/* What the command line asks of the attach. */
struct attach_choice {
  int read_only, force, update_utmp, inband;
  const char *detach; /* the detach rule's kind: "none" or "escape" */
  const char *redraw; /* "winch", "ctrl_l" or NULL */
};

/* The whole attach frame (header included). */
int build_attach(const struct client_fields *c, const struct attach_choice *a, struct bytes *frame);

/* Whether TERM is of the VT family (terminal-reset.ts), and its reset for when the host goes without its end frame. */
int is_vt_terminal(const char *term);
const char *terminal_reset_for(const char *term);

/*
 * A fast path: connected to the user's own host with the attach built, or
 * handed to the full TypeScript path, which fast_fall_back() execs with the
 * signal state restored (also at any failure before the host's first output
 * frame).
 */
struct fast_path {
  const char *fallback_file; /* what runs the full path */
  char **fallback;           /* its argv: the command line, unchanged */
  int sock;
  struct bytes attach;
  const char *reset; /* the terminal reset for TERM */
};

void fast_save_signals(void);
void fast_fall_back(struct fast_path *f) __attribute__((noreturn));
/* Relays on a prepared fast path; returns the exit code. */
int fast_relay(struct fast_path *f);

/* The checks both fast paths make before they connect. */
int is_session_name(const char *s);
int may_take_fast_path(void);
/* The directory held by a descriptor when it is the user's own and private, as the full path would use it for `name`; else -1. */
int open_user_dir(const char *path, const char *name);
int open_shared_dir(const char *root, const char *name);
/* A connection to `name` in the held `dir` (which it closes) when its listener runs as the user; else -1. */
int connect_own_host(int dir, const char *name);
void client_fields_now(struct client_fields *c);

int resume_prepare(struct fast_path *f, const char *socket_root);
/* argv: atsr's arguments after argv[0]. */
int attach_prepare(struct fast_path *f, int argc, char **argv);

/* relay-loop.c */
void relay_set_reset(const unsigned char *bytes, size_t len);
void relay_set_handlers(void);
void relay_make_terminal_blocking(void);
/* Restores the terminal, writes `line` (if any) and a newline to stderr, and returns `code`. */
int relay_finish(int code, const char *line, size_t len);
/* Sends the attach on `sock` and relays; `fast` set: a fast path, which falls back before the host's first output frame. */
int relay_session(int sock, const unsigned char *attach, size_t attach_len, struct fast_path *fast);

#endif
