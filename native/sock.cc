// Sock: one non-blocking socket fd + one uv_poll_t. Every syscall here is non-blocking;
// failures are returned to JS as negative errno numbers (no exceptions on the I/O path).
#include "sock.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>
// clang-format off
#include <linux/vm_sockets.h>
// clang-format on

#include <string>

namespace qlog {

namespace {
// Only Sock::Wrap can construct a Sock (JS cannot wrap an arbitrary fd number).
int construct_token;
constexpr int kMaxIov = IOV_MAX < 1024 ? IOV_MAX : 1024;

Napi::Value Num(Napi::Env env, double v) { return Napi::Number::New(env, v); }
}  // namespace

Napi::Value Failure(Napi::Env env, int err, const char* syscall) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("errno", Num(env, err));
  o.Set("syscall", Napi::String::New(env, syscall));
  return o;
}

Napi::Value AddressToJs(Napi::Env env, const struct sockaddr_storage& ss, unsigned len) {
  Napi::Object o = Napi::Object::New(env);
  if (ss.ss_family == AF_VSOCK && len >= sizeof(struct sockaddr_vm)) {
    const auto* vm = reinterpret_cast<const struct sockaddr_vm*>(&ss);
    o.Set("family", Napi::String::New(env, "vsock"));
    o.Set("cid", Num(env, vm->svm_cid));
    o.Set("port", Num(env, vm->svm_port));
  } else if (ss.ss_family == AF_UNIX) {
    const auto* un = reinterpret_cast<const struct sockaddr_un*>(&ss);
    size_t off = offsetof(struct sockaddr_un, sun_path);
    size_t n = len > off ? len - off : 0;
    std::string path;
    if (n > 0 && un->sun_path[0] == '\0') {
      path = "@" + std::string(un->sun_path + 1, n - 1);  // abstract namespace
    } else {
      path = std::string(un->sun_path, strnlen(un->sun_path, n));
    }
    o.Set("family", Napi::String::New(env, "unix"));
    o.Set("path", Napi::String::New(env, path));
  } else {
    o.Set("family", Napi::String::New(env, "other"));
  }
  return o;
}

Napi::Function Sock::Define(Napi::Env env) {
  return DefineClass(env, "NativeSock",
                     {
                         InstanceMethod<&Sock::ReadInto>("readInto"),
                         InstanceMethod<&Sock::Write>("write"),
                         InstanceMethod<&Sock::Writev>("writev"),
                         InstanceMethod<&Sock::Shutdown>("shutdown"),
                         InstanceMethod<&Sock::Accept>("accept"),
                         InstanceMethod<&Sock::SoError>("soError"),
                         InstanceMethod<&Sock::SockName>("sockName"),
                         InstanceMethod<&Sock::PeerName>("peerName"),
                         InstanceMethod<&Sock::Poll>("poll"),
                         InstanceMethod<&Sock::SetRef>("setRef"),
                         InstanceMethod<&Sock::Close>("close"),
                         InstanceMethod<&Sock::Fd>("fd"),
                     });
}

Napi::Value Sock::Wrap(Napi::Env env, int fd) {
  Napi::FunctionReference* ctor = env.GetInstanceData<Napi::FunctionReference>();
  Napi::Object obj = ctor->New({Napi::External<int>::New(env, &construct_token), Num(env, fd)});
  if (env.IsExceptionPending() || obj.IsEmpty()) {
    close(fd);
    return Napi::Value();
  }
  return obj;
}

Sock::Sock(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Sock>(info) {
  if (info.Length() < 2 || !info[0].IsExternal() ||
      info[0].As<Napi::External<int>>().Data() != &construct_token || !info[1].IsNumber()) {
    Napi::TypeError::New(info.Env(), "NativeSock cannot be constructed from JavaScript")
        .ThrowAsJavaScriptException();
    return;
  }
  fd_ = info[1].As<Napi::Number>().Int32Value();
}

Sock::~Sock() {
  // Reached only when no poll is active (an active poll holds a strong reference),
  // or at environment teardown: either way closing here cannot race a callback.
  CloseFd();
}

void Sock::CloseFd() {
  if (poll_ != nullptr) {
    poll_->data = nullptr;
    // uv_close stops the poll and removes the fd from epoll before we close() it.
    uv_close(reinterpret_cast<uv_handle_t*>(poll_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll_ = nullptr;
  }
  uv_events_ = 0;
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
}

void Sock::DropRef() {
  if (strong_) {
    strong_ = false;
    Unref();
  }
}

void Sock::OnPoll(uv_poll_t* handle, int status, int events) {
  Sock* self = static_cast<Sock*>(handle->data);
  if (self == nullptr) return;
  napi_env env = self->Env();
  Napi::HandleScope scope(self->Env());
  // `recv` is a local handle: the object cannot be collected during the callback even if
  // JS closes the socket (which drops the strong reference) from inside it.
  Napi::Object recv = self->Value();
  if (status < 0) {
    // libuv reports POLLERR as UV_EBADF and has already stopped the handle: record that,
    // and hand JS the socket's real error (e.g. a failed connect, ECONNRESET).
    self->uv_events_ = 0;
    self->DropRef();
    int err = 0;
    socklen_t len = sizeof err;
    if (status == UV_EBADF && self->fd_ >= 0 &&
        getsockopt(self->fd_, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0) {
      status = -err;
    }
  }
  // Raw N-API from here on: the node-addon-api wrappers turn a failed call into a thrown
  // error, which is fatal when the environment can no longer run JS.
  napi_value cb;
  napi_valuetype type = napi_undefined;
  if (napi_get_named_property(env, recv, "onpoll", &cb) != napi_ok ||
      napi_typeof(env, cb, &type) != napi_ok || type != napi_function) {
    // Either the environment is shutting down (e.g. a worker being terminated: libuv runs
    // the loop once more to clean up, but no JS may run), or nobody listens. Stop polling
    // (a level-triggered poll would spin); the fd is closed when the object is finalized.
    bool pending = false;
    napi_value ignored;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
      napi_get_and_clear_last_exception(env, &ignored);
    }
    if (self->poll_ != nullptr) uv_poll_stop(self->poll_);
    self->uv_events_ = 0;
    self->DropRef();
    return;
  }
  napi_value argv[2];
  napi_create_int32(env, status, &argv[0]);
  napi_create_int32(env, ((events & UV_READABLE) ? kReadable : 0) | ((events & UV_WRITABLE) ? kWritable : 0),
                    &argv[1]);
  napi_value result;
  if (napi_make_callback(env, nullptr, recv, cb, 2, argv, &result) != napi_ok) {
    bool pending = false;
    napi_value err;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending &&
        napi_get_and_clear_last_exception(env, &err) == napi_ok) {
      // Same as an exception thrown from any other event-loop callback. (A no-op when the
      // environment is being torn down.)
      napi_fatal_exception(env, err);
    }
  }
  // `self` may be closed now; do not touch it.
}

// readInto(buf, offset, length) -> bytes read (>0), 0 at EOF, or -errno.
Napi::Value Sock::ReadInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (fd_ < 0) return Num(env, -EBADF);
  if (!info[0].IsBuffer()) return Num(env, -EINVAL);
  auto buf = info[0].As<Napi::Buffer<char>>();
  size_t off = info[1].As<Napi::Number>().Int64Value();
  size_t len = info[2].As<Napi::Number>().Int64Value();
  if (off > buf.Length() || len > buf.Length() - off) return Num(env, -EINVAL);
  ssize_t n;
  do {
    n = read(fd_, buf.Data() + off, len);
  } while (n < 0 && errno == EINTR);
  return Num(env, n >= 0 ? static_cast<double>(n) : -errno);
}

// write(buf, offset) -> bytes written or -errno. MSG_NOSIGNAL: EPIPE instead of SIGPIPE.
Napi::Value Sock::Write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (fd_ < 0) return Num(env, -EBADF);
  if (!info[0].IsBuffer()) return Num(env, -EINVAL);
  auto buf = info[0].As<Napi::Buffer<char>>();
  size_t off = info[1].As<Napi::Number>().Int64Value();
  if (off > buf.Length()) return Num(env, -EINVAL);
  ssize_t n;
  do {
    n = send(fd_, buf.Data() + off, buf.Length() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  return Num(env, n >= 0 ? static_cast<double>(n) : -errno);
}

// writev(buffers, skip) -> bytes written or -errno; the first `skip` bytes were sent before.
Napi::Value Sock::Writev(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (fd_ < 0) return Num(env, -EBADF);
  if (!info[0].IsArray()) return Num(env, -EINVAL);
  auto arr = info[0].As<Napi::Array>();
  size_t skip = info[1].As<Napi::Number>().Int64Value();
  struct iovec iov[kMaxIov];
  int cnt = 0;
  uint32_t len = arr.Length();
  for (uint32_t i = 0; i < len && cnt < kMaxIov; i++) {
    Napi::Value v = arr.Get(i);
    if (!v.IsBuffer()) return Num(env, -EINVAL);
    auto b = v.As<Napi::Buffer<char>>();
    size_t bl = b.Length();
    if (skip >= bl) {
      skip -= bl;
      continue;
    }
    iov[cnt].iov_base = b.Data() + skip;
    iov[cnt].iov_len = bl - skip;
    skip = 0;
    cnt++;
  }
  if (cnt == 0) return Num(env, 0);
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = iov;
  msg.msg_iovlen = cnt;
  ssize_t n;
  do {
    n = sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  return Num(env, n >= 0 ? static_cast<double>(n) : -errno);
}

Napi::Value Sock::Shutdown(const Napi::CallbackInfo& info) {
  if (fd_ < 0) return Num(info.Env(), -EBADF);
  return Num(info.Env(), shutdown(fd_, SHUT_WR) == 0 ? 0 : -errno);
}

// accept() -> a new Sock, or -errno (-EAGAIN when no connection is pending).
Napi::Value Sock::Accept(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (fd_ < 0) return Num(env, -EBADF);
  int fd;
  do {
    fd = accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return Num(env, -errno);
  return Wrap(env, fd);
}

// soError() -> pending socket error (0 = none), e.g. the result of a non-blocking connect.
Napi::Value Sock::SoError(const Napi::CallbackInfo& info) {
  if (fd_ < 0) return Num(info.Env(), EBADF);
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  return Num(info.Env(), err);
}

Napi::Value Sock::SockName(const Napi::CallbackInfo& info) {
  if (fd_ < 0) return Num(info.Env(), -EBADF);
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t len = sizeof ss;
  if (getsockname(fd_, reinterpret_cast<struct sockaddr*>(&ss), &len) != 0) {
    return Num(info.Env(), -errno);
  }
  return AddressToJs(info.Env(), ss, len);
}

Napi::Value Sock::PeerName(const Napi::CallbackInfo& info) {
  if (fd_ < 0) return Num(info.Env(), -EBADF);
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t len = sizeof ss;
  if (getpeername(fd_, reinterpret_cast<struct sockaddr*>(&ss), &len) != 0) {
    return Num(info.Env(), -errno);
  }
  return AddressToJs(info.Env(), ss, len);
}

// poll(mask) -> 0 or -errno. mask = kReadable | kWritable; 0 stops polling.
Napi::Value Sock::Poll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (fd_ < 0) return Num(env, -EBADF);
  int mask = info[0].As<Napi::Number>().Int32Value();
  int want = ((mask & kReadable) ? UV_READABLE : 0) | ((mask & kWritable) ? UV_WRITABLE : 0);
  if (want == uv_events_) return Num(env, 0);
  if (want == 0) {
    uv_poll_stop(poll_);
    uv_events_ = 0;
    DropRef();
    return Num(env, 0);
  }
  if (poll_ == nullptr) {
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) return Num(env, -EINVAL);
    poll_ = new uv_poll_t;
    int r = uv_poll_init(loop, poll_, fd_);
    if (r != 0) {
      delete poll_;  // never initialised: no uv_close needed
      poll_ = nullptr;
      return Num(env, r);
    }
    poll_->data = this;
    if (!loop_ref_) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
  }
  int r = uv_poll_start(poll_, want, OnPoll);
  if (r != 0) return Num(env, r);
  uv_events_ = want;
  if (!strong_) {
    strong_ = true;
    Ref();
  }
  return Num(env, 0);
}

// setRef(bool): like net.Socket#ref/unref — whether an active poll keeps the process alive.
Napi::Value Sock::SetRef(const Napi::CallbackInfo& info) {
  loop_ref_ = info[0].ToBoolean().Value();
  if (poll_ != nullptr) {
    auto* h = reinterpret_cast<uv_handle_t*>(poll_);
    if (loop_ref_) {
      uv_ref(h);
    } else {
      uv_unref(h);
    }
  }
  return info.Env().Undefined();
}

// close(): idempotent; safe from inside the onpoll callback.
Napi::Value Sock::Close(const Napi::CallbackInfo& info) {
  CloseFd();
  DropRef();
  return info.Env().Undefined();
}

Napi::Value Sock::Fd(const Napi::CallbackInfo& info) { return Num(info.Env(), fd_); }

}  // namespace qlog
