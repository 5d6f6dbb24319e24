// A non-blocking stream socket fd driven by the Node event loop through one uv_poll_t.
// JS sets `onpoll(status, events)` on the object; the object stays alive (strong napi
// reference) while the poll is active, and becomes collectable again when it stops.
#pragma once

#include <napi.h>
#include <uv.h>

namespace qlog {

// Event bits shared with the TypeScript wrapper.
constexpr int kReadable = 1;
constexpr int kWritable = 2;

class Sock : public Napi::ObjectWrap<Sock> {
 public:
  static Napi::Function Define(Napi::Env env);
  // Wraps an fd that is already non-blocking and close-on-exec; the object owns it.
  static Napi::Value Wrap(Napi::Env env, int fd);

  explicit Sock(const Napi::CallbackInfo& info);
  ~Sock() override;

 private:
  static void OnPoll(uv_poll_t* handle, int status, int events);
  void CloseFd();
  void DropRef();

  Napi::Value ReadInto(const Napi::CallbackInfo& info);
  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value Writev(const Napi::CallbackInfo& info);
  Napi::Value Shutdown(const Napi::CallbackInfo& info);
  Napi::Value Accept(const Napi::CallbackInfo& info);
  Napi::Value SoError(const Napi::CallbackInfo& info);
  Napi::Value SockName(const Napi::CallbackInfo& info);
  Napi::Value PeerName(const Napi::CallbackInfo& info);
  Napi::Value Poll(const Napi::CallbackInfo& info);
  Napi::Value SetRef(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Fd(const Napi::CallbackInfo& info);

  int fd_ = -1;
  uv_poll_t* poll_ = nullptr;  // created on first poll, freed in its uv_close callback
  int uv_events_ = 0;          // events the poll is started with (0 = stopped)
  bool strong_ = false;        // ObjectWrap::Ref() held while polling
  bool loop_ref_ = true;       // whether an active poll keeps the loop alive
};

// Converts a sockaddr from getsockname/getpeername into {cid, port} / {path}.
Napi::Value AddressToJs(Napi::Env env, const struct sockaddr_storage& ss, unsigned len);
// {errno, syscall}: the failure value returned by the module's factory functions.
Napi::Value Failure(Napi::Env env, int err, const char* syscall);

}  // namespace qlog
