/*
 * host-native.node: the two calls the session host needs that Node does not
 * offer (src/host/host-native.ts). A Node-API addon, so any Node 20+ can load it.
 *
 * trim(): malloc_trim(0). After a burst of output and a GC, glibc keeps the
 * freed pages of its heap, pinned between live chunks; malloc_trim gives them
 * back to the kernel (src/host/memory-trim.ts).
 *
 * dup(fd): a close-on-exec duplicate of fd, or -1 with errno lost. The utmp
 * record of a session's pty is removed through the pty master, which the
 * host's reader closes when the command ends (src/host/utmp-recorder.ts).
 */
#include <fcntl.h>
#include <malloc.h>
#include <node_api.h>

static napi_value trim(napi_env env, napi_callback_info info) {
	(void)info;
	napi_value released;
	napi_get_boolean(env, malloc_trim(0) == 1, &released);
	return released;
}

static napi_value dup_fd(napi_env env, napi_callback_info info) {
	size_t argc = 1;
	napi_value arg, result;
	int32_t fd = -1;
	if (napi_get_cb_info(env, info, &argc, &arg, NULL, NULL) != napi_ok || argc < 1 ||
	    napi_get_value_int32(env, arg, &fd) != napi_ok || fd < 0) {
		napi_throw_type_error(env, NULL, "dup(fd): fd must be a descriptor number");
		return NULL;
	}
	napi_create_int32(env, fcntl(fd, F_DUPFD_CLOEXEC, 0), &result);
	return result;
}

NAPI_MODULE_INIT() {
	napi_value fn;
	napi_create_function(env, "trim", NAPI_AUTO_LENGTH, trim, NULL, &fn);
	napi_set_named_property(env, exports, "trim", fn);
	napi_create_function(env, "dup", NAPI_AUTO_LENGTH, dup_fd, NULL, &fn);
	napi_set_named_property(env, exports, "dup", fn);
	return exports;
}
