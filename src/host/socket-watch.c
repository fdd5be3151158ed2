/*
 * The host's socket watch, part of host-native.node (src/host/host-native.c
 * registers it). Every few seconds the host makes sure its socket is still
 * where a front looks for it (src/host/session-socket.ts, ensurePresent). In
 * JavaScript each of those checks cost an idle host about 1 ms of CPU on
 * this VM, Node's cold code woken for a few stat calls: 0.28 ms/s, nearly
 * all of an idle host's CPU (docs/benchmarks.md, "An idle host's socket
 * check"). Here a libuv timer does the stat calls and wakes the JavaScript
 * only when something changed; what to do about it stays there.
 *
 * watchSocket(socket, ino, dirs, ms, onChange): every `ms`, stat(socket) must
 * still give a socket of inode `ino`, and lstat of each of `dirs` the same
 * device, inode, mode and owner as when the watch was armed. At the first
 * difference the watch stops and onChange() is called once. Arming again
 * replaces the watch. The timer is unref'd: it never keeps the host alive.
 *
 * unwatchSocket(): stops the watch.
 */
#include <limits.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uv.h>
#include "socket-watch.h"

/* The socket's directory and its parent: the levels socket-dir.ts checks. */
#define MAX_DIRS 4

struct dir_seen {
	char path[PATH_MAX];
	int missing;
	dev_t dev;
	ino_t ino;
	mode_t mode;
	uid_t uid;
};

static struct {
	napi_env env;
	uv_timer_t timer;
	int timer_made;
	napi_ref on_change;
	napi_async_context context;
	char socket[PATH_MAX];
	double socket_ino;
	struct dir_seen dirs[MAX_DIRS];
	size_t ndirs;
} watch;

static void look(struct dir_seen *d) {
	struct stat st;
	d->missing = lstat(d->path, &st) != 0;
	d->dev = d->missing ? 0 : st.st_dev;
	d->ino = d->missing ? 0 : st.st_ino;
	d->mode = d->missing ? 0 : st.st_mode;
	d->uid = d->missing ? 0 : st.st_uid;
}

static int unchanged(void) {
	struct stat st;
	/* A file made after the socket was deleted may get its inode number: the type tells those apart. */
	if (stat(watch.socket, &st) != 0 || !S_ISSOCK(st.st_mode) || (double)st.st_ino != watch.socket_ino) return 0;
	for (size_t i = 0; i < watch.ndirs; i++) {
		struct dir_seen now = watch.dirs[i];
		look(&now);
		const struct dir_seen *was = &watch.dirs[i];
		if (now.missing != was->missing || now.dev != was->dev || now.ino != was->ino || now.mode != was->mode || now.uid != was->uid)
			return 0;
	}
	return 1;
}

static void forget_callback(void) {
	if (watch.on_change) napi_delete_reference(watch.env, watch.on_change);
	if (watch.context) napi_async_destroy(watch.env, watch.context);
	watch.on_change = NULL;
	watch.context = NULL;
}

static void stop(void) {
	if (watch.timer_made) uv_timer_stop(&watch.timer);
	forget_callback();
}

static void on_tick(uv_timer_t *timer) {
	(void)timer;
	if (unchanged()) return;
	uv_timer_stop(&watch.timer);
	napi_env env = watch.env;
	napi_ref ref = watch.on_change;
	napi_async_context context = watch.context;
	watch.on_change = NULL;
	watch.context = NULL;
	napi_handle_scope scope;
	napi_open_handle_scope(env, &scope);
	napi_value fn, recv, result;
	if (napi_get_reference_value(env, ref, &fn) == napi_ok && fn != NULL) {
		napi_get_global(env, &recv); /* napi_make_callback wants an object as `this` */
		/* As a JavaScript timer's callback: microtasks run after it, and a throw is the process's uncaught exception. */
		napi_make_callback(env, context, recv, fn, 0, NULL, &result);
	}
	napi_close_handle_scope(env, scope);
	napi_delete_reference(env, ref);
	napi_async_destroy(env, context);
}

static void cleanup(void *arg) {
	(void)arg;
	stop();
	if (watch.timer_made) uv_close((uv_handle_t *)&watch.timer, NULL);
	watch.timer_made = 0;
}

static int get_path(napi_env env, napi_value v, char *out) {
	size_t len = 0;
	if (napi_get_value_string_utf8(env, v, out, PATH_MAX, &len) != napi_ok) return 0;
	return len > 0 && len < PATH_MAX - 1;
}

napi_value watch_socket(napi_env env, napi_callback_info info) {
	size_t argc = 5;
	napi_value argv[5];
	uint32_t ndirs = 0;
	double ino = -1;
	int32_t ms = 0;
	napi_valuetype fn_type = napi_undefined;
	int ok = napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == 5 &&
	         napi_get_value_double(env, argv[1], &ino) == napi_ok && napi_get_array_length(env, argv[2], &ndirs) == napi_ok &&
	         ndirs <= MAX_DIRS && napi_get_value_int32(env, argv[3], &ms) == napi_ok && ms > 0 &&
	         napi_typeof(env, argv[4], &fn_type) == napi_ok && fn_type == napi_function;
	char socket[PATH_MAX];
	struct dir_seen dirs[MAX_DIRS];
	ok = ok && get_path(env, argv[0], socket);
	for (uint32_t i = 0; ok && i < ndirs; i++) {
		napi_value v;
		ok = napi_get_element(env, argv[2], i, &v) == napi_ok && get_path(env, v, dirs[i].path);
	}
	if (!ok) {
		napi_throw_type_error(env, NULL, "watchSocket(socket: string, ino: number, dirs: string[] (at most 4), ms: int > 0, onChange: function)");
		return NULL;
	}
	if (!watch.timer_made) {
		uv_loop_t *loop;
		if (napi_get_uv_event_loop(env, &loop) != napi_ok || uv_timer_init(loop, &watch.timer) != 0) {
			napi_throw_error(env, NULL, "watchSocket: no event loop timer");
			return NULL;
		}
		uv_unref((uv_handle_t *)&watch.timer);
		watch.timer_made = 1;
		watch.env = env;
		napi_add_env_cleanup_hook(env, cleanup, NULL);
	}
	stop();
	memcpy(watch.socket, socket, sizeof socket);
	watch.socket_ino = ino;
	for (uint32_t i = 0; i < ndirs; i++) {
		watch.dirs[i] = dirs[i];
		look(&watch.dirs[i]);
	}
	watch.ndirs = ndirs;
	napi_value name;
	napi_create_string_utf8(env, "atsr:socket-watch", NAPI_AUTO_LENGTH, &name);
	napi_create_reference(env, argv[4], 1, &watch.on_change);
	napi_async_init(env, NULL, name, &watch.context);
	uv_timer_start(&watch.timer, on_tick, (uint64_t)ms, (uint64_t)ms);
	return NULL;
}

napi_value unwatch_socket(napi_env env, napi_callback_info info) {
	(void)env;
	(void)info;
	stop();
	return NULL;
}
