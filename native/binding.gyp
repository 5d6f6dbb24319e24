{
  "targets": [
    {
      "target_name": "qlog_vsock",
      "sources": ["vsock.cc", "sock.cc", "memory.cc", "lines.cc", "read.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-fno-exceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      # The uv_poll close callbacks live in this library: keep it mapped after a worker
      # thread's environment unloads it, until libuv has run them.
      "ldflags": ["-Wl,-z,nodelete"]
    }
  ]
}
