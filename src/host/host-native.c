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
 *
 * write(fd, buf): one write(2) of the whole Buffer, retried on EINTR; the
 * bytes written, or -errno (-EAGAIN: the pty is full). The host's input into
 * the pty (src/host/pty-input.ts), where fs.writeSync took about 2 µs of
 * JavaScript per keystroke and threw an Error for every full pty.
 *
 * writeOut(pty, sock, buf, length, end, full, header): the output path of a
 * writer alone whose socket has nothing queued (OutputFlow.writeThrough).
 * Reads on after buf's first `length` bytes as readOn does (when `length` is
 * a full read), writes the payload's length into the 5-byte frame header,
 * and writes header and payload to the socket in one writev; returns the
 * bytes the socket took, fewer when it filled (EAGAIN) or failed (Node's
 * write of the rest then reports the error). One call per pty read, where
 * the frame path filled a pooled frame and wrote it through an immediate
 * and Writable's machinery (docs/benchmarks.md, "Output written through").
 *
 * peerPid(fd): the PID the kernel recorded for the peer of a connected
 * Unix socket (SO_PEERCRED): for a connection to a listening socket, the
 * process that called listen(); 0 if it is in no PID namespace of ours, -1
 * if the kernel has none. Which process listens on a session's socket
 * (src/list/list-sessions.ts), where /proc/net/unix could be forged.
 *
 * watchSocket(socket, ino, dirs, ms, onChange) and unwatchSocket(): the
 * host's periodic socket check done by a libuv timer, which wakes the
 * JavaScript only when something changed (src/host/socket-watch.c).
 */
#define _GNU_SOURCE /* struct ucred */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <node_api.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include "socket-watch.h"

/* src/protocol/frames.ts: a type byte and the payload length, 32 bits big-endian. */
#define FRAME_HEADER_BYTES 5

static napi_value trim(napi_env env, napi_callback_info info) {
	(void)info;
	napi_value released;
	napi_get_boolean(env, malloc_trim(0) == 1, &released);
	return released;
}

/* The one argument of a call that takes a descriptor, or -1 with `error` thrown as a TypeError. */
static int32_t fd_argument(napi_env env, napi_callback_info info, const char *error) {
	size_t argc = 1;
	napi_value arg;
	int32_t fd = -1;
	if (napi_get_cb_info(env, info, &argc, &arg, NULL, NULL) != napi_ok || argc < 1 ||
	    napi_get_value_int32(env, arg, &fd) != napi_ok || fd < 0) {
		napi_throw_type_error(env, NULL, error);
		return -1;
	}
	return fd;
}

static napi_value dup_fd(napi_env env, napi_callback_info info) {
	int32_t fd = fd_argument(env, info, "dup(fd): fd must be a descriptor number");
	if (fd < 0) return NULL;
	napi_value result;
	napi_create_int32(env, fcntl(fd, F_DUPFD_CLOEXEC, 0), &result);
	return result;
}

static napi_value peer_pid(napi_env env, napi_callback_info info) {
	int32_t fd = fd_argument(env, info, "peerPid(fd): fd must be a descriptor number");
	if (fd < 0) return NULL;
	napi_value result;
	struct ucred cred;
	socklen_t len = sizeof cred;
	int ok = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && len == sizeof cred;
	napi_create_int32(env, ok ? cred.pid : -1, &result);
	return result;
}

/* Reads fd into [p, stop) while a whole `full`-byte read fits and every read was full; returns where the bytes end. */
static char *read_on_into(int fd, char *p, char *stop, int full) {
	while (stop - p >= full) {
		ssize_t n = read(fd, p, (size_t)(stop - p));
		if (n < 0 && errno == EINTR) continue;
		if (n <= 0) break; /* EAGAIN: nothing more now; EIO: the command is gone, which the reader sees too */
		p += n;
		if (n < full) break;
	}
	return p;
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
	char *start = (char *)data + at;
	napi_create_int32(env, (int32_t)(read_on_into(fd, start, (char *)data + end, full) - start), &result);
	return result;
}

static napi_value write_fd(napi_env env, napi_callback_info info) {
	size_t argc = 2;
	napi_value args[2], result;
	int32_t fd = -1;
	void *data = NULL;
	size_t length = 0;
	if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || argc < 2 || napi_get_value_int32(env, args[0], &fd) != napi_ok ||
	    napi_get_buffer_info(env, args[1], &data, &length) != napi_ok || fd < 0) {
		napi_throw_type_error(env, NULL, "write(fd, buf): a descriptor and a Buffer");
		return NULL;
	}
	ssize_t n;
	do n = write(fd, data, length);
	while (n < 0 && errno == EINTR);
	napi_create_int32(env, n < 0 ? -errno : (int32_t)n, &result);
	return result;
}

static napi_value write_out(napi_env env, napi_callback_info info) {
	size_t argc = 7;
	napi_value args[7], result;
	int32_t pty = -1, sock = -1, length = -1, end = -1, full = 0;
	void *data = NULL, *header = NULL;
	size_t capacity = 0, header_length = 0;
	if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || argc < 7 ||
	    napi_get_value_int32(env, args[0], &pty) != napi_ok || napi_get_value_int32(env, args[1], &sock) != napi_ok ||
	    napi_get_buffer_info(env, args[2], &data, &capacity) != napi_ok || napi_get_value_int32(env, args[3], &length) != napi_ok ||
	    napi_get_value_int32(env, args[4], &end) != napi_ok || napi_get_value_int32(env, args[5], &full) != napi_ok ||
	    napi_get_buffer_info(env, args[6], &header, &header_length) != napi_ok || pty < 0 || sock < 0 || length < 0 ||
	    end < length || (size_t)end > capacity || full <= 0 || header_length != FRAME_HEADER_BYTES) {
		napi_throw_type_error(env, NULL,
		                      "writeOut(pty, sock, buf, length, end, full, header): descriptors, a Buffer, length <= end <= buf.length, "
		                      "full > 0, a 5-byte header");
		return NULL;
	}
	char *payload = (char *)data;
	char *stop = payload + length;
	if (length >= full) stop = read_on_into(pty, stop, payload + end, full);
	uint32_t n = (uint32_t)(stop - payload);
	unsigned char *h = header;
	h[1] = (unsigned char)(n >> 24), h[2] = (unsigned char)(n >> 16), h[3] = (unsigned char)(n >> 8), h[4] = (unsigned char)n;
	struct iovec iov[2] = {{header, FRAME_HEADER_BYTES}, {payload, n}};
	struct iovec *next = iov;
	int left = 2;
	size_t done = 0, total = FRAME_HEADER_BYTES + n;
	while (done < total) {
		ssize_t w = writev(sock, next, left);
		if (w < 0 && errno == EINTR) continue;
		if (w <= 0) break; /* EAGAIN: the socket is full; another error: Node's write of the rest reports it */
		done += (size_t)w;
		while (left > 0 && (size_t)w >= next->iov_len) w -= (ssize_t)next->iov_len, next++, left--;
		if (left > 0) next->iov_base = (char *)next->iov_base + w, next->iov_len -= (size_t)w;
	}
	napi_create_int32(env, (int32_t)done, &result);
	return result;
}

NAPI_MODULE_INIT() {
	napi_value fn;
	napi_create_function(env, "trim", NAPI_AUTO_LENGTH, trim, NULL, &fn);
	napi_set_named_property(env, exports, "trim", fn);
	napi_create_function(env, "dup", NAPI_AUTO_LENGTH, dup_fd, NULL, &fn);
	napi_set_named_property(env, exports, "dup", fn);
	napi_create_function(env, "peerPid", NAPI_AUTO_LENGTH, peer_pid, NULL, &fn);
	napi_set_named_property(env, exports, "peerPid", fn);
	napi_create_function(env, "readOn", NAPI_AUTO_LENGTH, read_on, NULL, &fn);
	napi_set_named_property(env, exports, "readOn", fn);
	napi_create_function(env, "write", NAPI_AUTO_LENGTH, write_fd, NULL, &fn);
	napi_set_named_property(env, exports, "write", fn);
	napi_create_function(env, "writeOut", NAPI_AUTO_LENGTH, write_out, NULL, &fn);
	napi_set_named_property(env, exports, "writeOut", fn);
	napi_create_function(env, "watchSocket", NAPI_AUTO_LENGTH, watch_socket, NULL, &fn);
	napi_set_named_property(env, exports, "watchSocket", fn);
	napi_create_function(env, "unwatchSocket", NAPI_AUTO_LENGTH, unwatch_socket, NULL, &fn);
	napi_set_named_property(env, exports, "unwatchSocket", fn);
	return exports;
}
