/*
 * atsr ...   (the command users and rezumable run; rezume is a symlink to it)
 *
 * The entry of the installed `atsr`: a plain `atsr -a NAME` to the user's own
 * running session is relayed from here, with no Node process started
 * (fast-attach.c), as dtach -a attaches in a few milliseconds where Node
 * alone takes tens. Every other command line, unchanged, argv[0] included,
 * is execv()ed into the Node executable beside this one, `atsr-node`, which
 * makes every decision as before (docs/packaging.md).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "relay.h"

/* The Node single-executable application, beside this file (symlinks resolved, as the installer puts them side by side). */
#define NODE_EXECUTABLE "atsr-node"

static int node_executable(char *out, size_t size) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return -1;
  self[n] = '\0';
  char *slash = strrchr(self, '/');
  if (!slash) return -1;
  *slash = '\0';
  int m = snprintf(out, size, "%s/%s", self, NODE_EXECUTABLE);
  return m > 0 && (size_t)m < size ? 0 : -1;
}

/* rezume's command line is the client's, never an attach. */
static int called_as_rezume(const char *argv0) {
  const char *base = strrchr(argv0, '/');
  return strcmp(base ? base + 1 : argv0, "rezume") == 0;
}

int main(int argc, char **argv) {
  static char node[PATH_MAX];
  if (node_executable(node, sizeof node) < 0) {
    fprintf(stderr, "atsr: cannot find %s beside this executable: %s\n", NODE_EXECUTABLE, strerror(errno));
    return 127;
  }
  char *no_args[] = {"atsr", NULL};
  struct fast_path f = {.fallback_file = node, .fallback = argc > 0 ? argv : no_args, .sock = -1};
  fast_save_signals();
  if (argc < 2 || called_as_rezume(argv[0]) || attach_prepare(&f, argc - 1, argv + 1) < 0) fast_fall_back(&f);
  return fast_relay(&f);
}
