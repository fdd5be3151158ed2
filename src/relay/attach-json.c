/*
 * The version 2 attach frame a fast path builds itself (docs/protocol.md,
 * "attach, version 2"), as the TypeScript front would send it for the same
 * command line, and the terminal reset for TERM.
 *
 * The host parses it with JSON.parse after decoding UTF-8, so every string
 * is escaped here (quotes, backslash, control characters) and a field that
 * is not valid UTF-8 is sent empty, like one over the front's field limit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"

/* Longer than any path or address: of no use to the host (MAX_ATTACH_FIELD_BYTES). */
#define MAX_FIELD_BYTES 4096

void bytes_put(struct bytes *b, const void *p, size_t n) {
  if (b->failed) return;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n) cap *= 2;
    unsigned char *grown = realloc(b->data, cap);
    if (!grown) {
      b->failed = 1;
      return;
    }
    b->data = grown;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
}

void bytes_puts(struct bytes *b, const char *s) { bytes_put(b, s, strlen(s)); }

/* The length of the valid UTF-8 sequence at s (n bytes left), or 0 (no overlongs, surrogates or > U+10FFFF). */
static size_t utf8_sequence(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  if (c < 0x80) return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xbf; /* the range of the second byte */
  if (c >= 0xc2 && c <= 0xdf) len = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else return 0;
  if (n < len || s[1] < lo || s[1] > hi) return 0;
  for (size_t i = 2; i < len; i++)
    if (s[i] < 0x80 || s[i] > 0xbf) return 0;
  return len;
}

static int is_valid_utf8(const unsigned char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    size_t len = utf8_sequence(s + i, n - i);
    if (len == 0) return 0;
    i += len;
  }
  return 1;
}

/* A JSON string: the value, or "" when it is over the limit or not UTF-8. */
static void put_string(struct bytes *b, const char *value, size_t n) {
  const unsigned char *s = (const unsigned char *)value;
  if (n > MAX_FIELD_BYTES || !is_valid_utf8(s, n)) n = 0;
  bytes_puts(b, "\"");
  for (size_t i = 0; i < n; i++) {
    char esc[8];
    if (s[i] == '"' || s[i] == '\\') {
      esc[0] = '\\';
      esc[1] = (char)s[i];
      bytes_put(b, esc, 2);
    } else if (s[i] < 0x20 || s[i] == 0x7f) {
      snprintf(esc, sizeof esc, "\\u%04x", s[i]);
      bytes_put(b, esc, 6);
    } else {
      bytes_put(b, s + i, 1);
    }
  }
  bytes_puts(b, "\"");
}

int build_attach(const struct client_fields *c, const struct attach_choice *a, struct bytes *frame) {
  struct bytes json = {0};
  char num[64];
  bytes_puts(&json, "{\"v\":2,\"readOnly\":");
  bytes_puts(&json, a->read_only ? "true" : "false");
  bytes_puts(&json, ",\"force\":");
  bytes_puts(&json, a->force ? "true" : "false");
  snprintf(num, sizeof num, ",\"rows\":%u,\"cols\":%u", c->rows, c->cols);
  bytes_puts(&json, num);
  bytes_puts(&json, ",\"clientAddr\":");
  put_string(&json, c->client_addr, c->client_addr_len);
  bytes_puts(&json, ",\"agentSocket\":");
  put_string(&json, c->agent_socket, strlen(c->agent_socket));
  bytes_puts(&json, ",\"updateUtmp\":");
  bytes_puts(&json, a->update_utmp ? "true" : "false");
  bytes_puts(&json, ",\"inband\":");
  bytes_puts(&json, a->inband ? "true" : "false");
  bytes_puts(&json, ",\"term\":");
  put_string(&json, c->term, strlen(c->term));
  bytes_puts(&json, ",\"detach\":{\"kind\":\"");
  bytes_puts(&json, a->detach);
  bytes_puts(&json, "\"}");
  if (a->redraw) {
    bytes_puts(&json, ",\"redraw\":\"");
    bytes_puts(&json, a->redraw);
    bytes_puts(&json, "\"");
  }
  bytes_puts(&json, "}");
  if (json.failed) {
    free(json.data);
    return -1;
  }
  unsigned char header[HEADER_BYTES] = {FRAME_ATTACH, (unsigned char)(json.len >> 24), (unsigned char)(json.len >> 16),
                                        (unsigned char)(json.len >> 8), (unsigned char)json.len};
  bytes_put(frame, header, sizeof header);
  bytes_put(frame, json.data, json.len);
  free(json.data);
  return frame->failed ? -1 : 0;
}

/* Leave the alternate screen, show the cursor, normal keypad and cursor keys, mouse and bracketed paste off, SGR reset. */
static const char VT_TERMINAL_RESET[] =
    "\x1b[?1049l\x1b[?25h\x1b>\x1b[?1l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l\x1b[?2004l\x1b[0m";

static int starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* VT_FAMILY of terminal-reset.ts (test/unit/relay-reset-parity.test.ts keeps them equal): these prefixes, vt100..vt599, and linux or alacritty alone or followed by '-'. */
int is_vt_terminal(const char *term) {
  static const char *const prefixes[] = {"xterm", "screen", "tmux", "rxvt", "putty", "konsole", "gnome", "foot", "kitty"};
  for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
    if (starts_with(term, prefixes[i])) return 1;
  if (term[0] == 'v' && term[1] == 't' && term[2] >= '1' && term[2] <= '5' && term[3] >= '0' && term[3] <= '9' && term[4] >= '0' && term[4] <= '9') return 1;
  static const char *const alone[] = {"linux", "alacritty"};
  for (size_t i = 0; i < 2; i++) {
    size_t n = strlen(alone[i]);
    if (strncmp(term, alone[i], n) == 0 && (term[n] == '\0' || term[n] == '-')) return 1;
  }
  return 0;
}

const char *terminal_reset_for(const char *term) { return is_vt_terminal(term) ? VT_TERMINAL_RESET : ""; }
