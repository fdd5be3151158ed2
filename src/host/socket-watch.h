/* The host's socket watch (src/host/socket-watch.c), registered by host-native.c. */
#ifndef ATSR_SOCKET_WATCH_H
#define ATSR_SOCKET_WATCH_H
#include <node_api.h>

napi_value watch_socket(napi_env env, napi_callback_info info);
napi_value unwatch_socket(napi_env env, napi_callback_info info);

#endif
