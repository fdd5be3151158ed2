/*
 * host-native.node: the calls the session host needs that Node does not
 * offer, or offers at a cost its output path cannot bear
 * (src/host/host-native.ts). A Node-API addon, so any Node 20+ can load it.
 *
 * trim(): malloc_trim(0). After a burst of output and a GC, glibc keeps the
 * freed pages of its heap, pinned between live chunks; malloc_trim gives them
 * back to the kernel (src/host/memory-trim.ts).
 *
 * dup(fd): a close-on-exec duplicate of fd, or -1 with errno lost. The utmp
 * record of a session's pty is removed through the pty master, which the
 * host's reader closes when the command ends (src/host/utmp-recorder.ts).
 *
 * readOn(fd, buf, at, end, full): reads the pty master into buf[at, end)
 * while a whole `full`-byte read still fits and every read was full; returns
 * the bytes read. It stops at the first short read, EAGAIN or EIO, as
 * OutputFlow.readOn did with fs.readSync, whose JavaScript and whose Error
 * for a failed read took about a tenth of a host's user time in the scale
 * bench (docs/benchmarks.md, "The host's read-on in C, and the
 * trim's own cost").
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <node_api.h>
#include <unistd.h>

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

static napi_value read_on(napi_env env, napi_callback_info info) {
	size_t argc = 5;
	napi_value args[5], result;
	int32_t fd = -1, at = -1, end = -1, full = 0;
	void *data = NULL;
	size_t length = 0;
	if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || argc < 5 ||
	    napi_get_value_int32(env, args[0], &fd) != napi_ok || napi_get_buffer_info(env, args[1], &data, &length) != napi_ok ||
	    napi_get_value_int32(env, args[2], &at) != napi_ok || napi_get_value_int32(env, args[3], &end) != napi_ok ||
	    napi_get_value_int32(env, args[4], &full) != napi_ok || fd < 0 || at < 0 || end < at || (size_t)end > length || full <= 0) {
		napi_throw_type_error(env, NULL, "readOn(fd, buf, at, end, full): a descriptor, a Buffer, at <= end <= buf.length, full > 0");
		return NULL;
	}
	char *p = (char *)data + at, *stop = (char *)data + end;
	while (stop - p >= full) {
		ssize_t n = read(fd, p, (size_t)(stop - p));
		if (n < 0 && errno == EINTR) continue;
		if (n <= 0) break; /* EAGAIN: nothing more now; EIO: the command is gone, which the reader sees too */
		p += n;
		if (n < full) break;
	}
	napi_create_int32(env, (int32_t)(p - ((char *)data + at)), &result);
	return result;
}

NAPI_MODULE_INIT() {
	napi_value fn;
	napi_create_function(env, "trim", NAPI_AUTO_LENGTH, trim, NULL, &fn);
	napi_set_named_property(env, exports, "trim", fn);
	napi_create_function(env, "dup", NAPI_AUTO_LENGTH, dup_fd, NULL, &fn);
	napi_set_named_property(env, exports, "dup", fn);
	napi_create_function(env, "readOn", NAPI_AUTO_LENGTH, read_on, NULL, &fn);
	napi_set_named_property(env, exports, "readOn", fn);
	return exports;
}
