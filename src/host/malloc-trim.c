/*
 * malloc-trim.node: malloc_trim(0) for the session host (src/host/memory-trim.ts),
 * which Node does not offer. After a burst of output and a GC, glibc keeps the
 * freed pages of its heap, pinned between live chunks; malloc_trim gives them
 * back to the kernel. A Node-API addon, so any Node 20+ can load it.
 */
#include <malloc.h>
#include <node_api.h>

static napi_value trim(napi_env env, napi_callback_info info) {
	(void)info;
	napi_value released;
	napi_get_boolean(env, malloc_trim(0) == 1, &released);
	return released;
}

NAPI_MODULE_INIT() {
	napi_value fn;
	napi_create_function(env, "trim", NAPI_AUTO_LENGTH, trim, NULL, &fn);
	napi_set_named_property(env, exports, "trim", fn);
	return exports;
}
