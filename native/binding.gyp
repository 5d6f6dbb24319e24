{
  "targets": [
    {
      "target_name": "qlog_vsock",
      "sources": ["vsock.cc", "sock.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "ldflags": ["-Wl,-z,nodelete"],
      "conditions": [
        ["OS!='linux'", {"sources!": ["vsock.cc", "sock.cc"]}]
      ]
    }
  ]
}
