/*
 * The fast attach: `atsr -a NAME` (with -f, -r, -w, -R METHOD, -u DIR or
 * -g DIR before NAME) reaches the user's own running host with no Node
 * process, as dtach -a does, when the attach needs nothing only the
 * TypeScript front has: no screen repaint (the emulator), no detach key to
 * parse, no diagnostics. The directory is the one the full path would
 * choose first (-u DIR, -g DIR/UID, else $HOME/.atsr), checked as it checks
 * it; any other case, and any doubt, is the full path's (docs/security.md,
 * "The fast paths"), which then runs the same command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"

/* The options the fast attach understands, each given as its own word (as atsr's parser reads them). */
struct attach_options {
  int attach, force, read_only, no_utmp;
  const char *redraw;   /* -R */
  const char *user_dir; /* -u */
  const char *shared;   /* -g */
  const char *name;
};

/* Sets *slot to `value` unless it was set before (a repeated option is the full path's to judge). */
static int take_once(const char **slot, const char *value) {
  if (*slot != NULL || value == NULL) return -1;
  *slot = value;
  return 0;
}

static int flag_once(int *flag) {
  if (*flag) return -1;
  *flag = 1;
  return 0;
}

/* Options, then the name, then nothing: -1 for anything else. */
static int parse(int argc, char **argv, struct attach_options *o) {
  int i = 0;
  for (; i < argc && argv[i][0] == '-'; i++) {
    const char *a = argv[i];
    int bad = 0;
    if (strcmp(a, "-a") == 0) bad = flag_once(&o->attach);
    else if (strcmp(a, "-f") == 0) bad = flag_once(&o->force);
    else if (strcmp(a, "-r") == 0) bad = flag_once(&o->read_only);
    else if (strcmp(a, "-w") == 0) bad = flag_once(&o->no_utmp);
    else if (strcmp(a, "-R") == 0) bad = take_once(&o->redraw, i + 1 < argc ? argv[++i] : NULL);
    else if (strcmp(a, "-u") == 0) bad = take_once(&o->user_dir, i + 1 < argc ? argv[++i] : NULL);
    else if (strcmp(a, "-g") == 0) bad = take_once(&o->shared, i + 1 < argc ? argv[++i] : NULL);
    else bad = -1;
    if (bad) return -1;
  }
  if (i != argc - 1 || !o->attach || (o->user_dir && o->shared)) return -1;
  o->name = argv[i];
  return 0;
}

/* The redraw the attach asks for ("" for none), or NULL when only the full path can do it (the screen repaint) or judge it. */
static const char *redraw_for(const char *choice, const char *term) {
  if (choice == NULL || strcmp(choice, "auto") == 0) return is_vt_terminal(term) ? NULL : "";
  if (strcmp(choice, "winch") == 0 || strcmp(choice, "ctrl_l") == 0) return choice;
  if (strcmp(choice, "none") == 0) return "";
  return NULL;
}

int attach_prepare(struct fast_path *f, int argc, char **argv) {
  struct attach_options o = {0};
  if (parse(argc, argv, &o) < 0 || !is_session_name(o.name) || !may_take_fast_path()) return -1;
  struct client_fields c;
  client_fields_now(&c);
  const char *redraw = redraw_for(o.redraw, c.term);
  if (redraw == NULL) return -1;
  int dir;
  if (o.shared) {
    dir = open_shared_dir(o.shared, o.name);
  } else {
    const char *home = getenv("HOME");
    char path[4096];
    if (!o.user_dir && (home == NULL || (size_t)snprintf(path, sizeof path, "%s/.atsr", home) >= sizeof path)) return -1;
    dir = open_user_dir(o.user_dir ? o.user_dir : path, o.name);
  }
  if (dir < 0) return -1;
  f->sock = connect_own_host(dir, o.name);
  if (f->sock < 0) return -1;
  f->reset = terminal_reset_for(c.term);
  /* As the TypeScript front's -a: Enter ~ . detaches; no in-band handshake. */
  const struct attach_choice choice = {
      .read_only = o.read_only, .force = o.force, .update_utmp = !o.no_utmp, .inband = 0, .detach = "escape", .redraw = redraw[0] ? redraw : NULL};
  return build_attach(&c, &choice, &f->attach);
}
