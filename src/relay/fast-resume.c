/*
 * The fast resume: `atsr-relay --resume SOCKET_ROOT -- ATSR-COMMAND...`,
 * which rezumable runs for a client that sent ATSR_ID (docs/security.md,
 * "The fast paths"). A login whose session is already running reaches it
 * with no Node process on the way: the relay finds the user's own host in
 * SOCKET_ROOT/UID, sends the attach `atsr -i ATSR_ID -t -f -s` would send,
 * and relays. Everything else (a session to create, another user's entry in
 * the way, a stale socket, an older host, a nested login, a refused name)
 * goes to the command line rezumable runs without the fast path, unchanged.
 */
#include <stdlib.h>

#include "relay.h"

int resume_prepare(struct fast_path *f, const char *socket_root) {
  const char *name = getenv("ATSR_ID");
  if (name == NULL || !is_session_name(name) || !may_take_fast_path()) return -1;
  int dir = open_shared_dir(socket_root, name);
  if (dir < 0) return -1;
  f->sock = connect_own_host(dir, name);
  if (f->sock < 0) return -1;
  struct client_fields c;
  client_fields_now(&c);
  f->reset = terminal_reset_for(c.term);
  /* Read-write, taking over, the in-band handshake, no detach key. */
  const struct attach_choice choice = {.read_only = 0, .force = 1, .update_utmp = 1, .inband = 1, .detach = "none", .redraw = NULL};
  return build_attach(&c, &choice, &f->attach);
}
