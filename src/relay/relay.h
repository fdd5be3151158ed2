/*
 * The pieces of atsr-relay (one role per file):
 *   atsr-relay.c    main, and the relay loop between the terminal and the host
 *   fast-resume.c   `--resume`: finds the user's own session host without Node,
 *                   or execs the full atsr command line unchanged (the fallback)
 *   attach-json.c   the version 2 attach frame the fast resume builds itself
 */
#ifndef ATSR_RELAY_H
#define ATSR_RELAY_H

#include <stddef.h>

/* Frame types (src/protocol/frames.ts). */
#define FRAME_ATTACH 0x01
#define HEADER_BYTES 5

/* A growable byte buffer; on allocation failure `failed` is set and later appends do nothing. */
struct bytes {
  unsigned char *data;
  size_t len, cap;
  int failed;
};

void bytes_put(struct bytes *b, const void *p, size_t n);
void bytes_puts(struct bytes *b, const char *s);

/* What the fast resume tells the host about this terminal and client (clientFields in attach-session.ts). */
struct client_fields {
  unsigned rows, cols;
  const char *client_addr; /* the first word of SSH_CLIENT */
  size_t client_addr_len;
  const char *agent_socket;
  const char *term;
};

/* The whole attach frame (header included) of `atsr -t -f -s` for an ATSR_ID client. */
int build_resume_attach(const struct client_fields *c, struct bytes *frame);

/* The terminal reset for TERM when the host goes without its end frame (terminal-reset.ts). */
const char *terminal_reset_for(const char *term);

/*
 * The fast resume (`atsr-relay --resume SOCKET_ROOT -- ATSR-COMMAND...`).
 * resume_prepare() connects to the user's own host and builds the attach, or
 * returns -1: then (as at any failure before the host's first output frame)
 * resume_fall_back() execs the command line, with the signal state restored.
 */
struct resume {
  char **fallback;          /* the atsr command line rezumable runs without the fast path */
  int sock;
  struct bytes attach;
  const char *reset;        /* the terminal reset for TERM */
};

void resume_save_signals(void);
int resume_prepare(struct resume *r, const char *socket_root);
void resume_fall_back(struct resume *r) __attribute__((noreturn));

#endif
