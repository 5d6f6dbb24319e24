// qlog_vsock: AF_VSOCK stream sockets for Node (libuv cannot wrap an AF_VSOCK fd).
// Factory functions return a NativeSock or {errno, syscall}; nothing here blocks:
// sockets are SOCK_NONBLOCK, connect() returns EINPROGRESS and JS waits for writability.
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
// clang-format off
#include <linux/vm_sockets.h>
// clang-format on

#include <string>

#include "sock.h"

namespace qlog {

Napi::Value ReduceMemory(const Napi::CallbackInfo& info);   // memory.cc
Napi::Value ReleaseBuffer(const Napi::CallbackInfo& info);  // memory.cc
void InitLines(Napi::Env env, Napi::Object exports);          // lines.cc
Napi::Value ReadWithHead(const Napi::CallbackInfo& info);   // read.cc

namespace {

constexpr int kSockFlags = SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC;

uint32_t U32(const Napi::Value& v) { return v.As<Napi::Number>().Uint32Value(); }

// Closes fd, keeping errno of the failed call.
Napi::Value Fail(Napi::Env env, int fd, const char* syscall) {
  int err = errno;
  if (fd >= 0) close(fd);
  return Failure(env, err, syscall);
}

struct sockaddr_vm VmAddr(uint32_t cid, uint32_t port) {
  struct sockaddr_vm a;
  memset(&a, 0, sizeof a);
  a.svm_family = AF_VSOCK;
  a.svm_cid = cid;
  a.svm_port = port;
  return a;
}

// Fills a sockaddr_un; returns false if the path does not fit.
bool UnixAddr(const std::string& path, struct sockaddr_un* a, socklen_t* len) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof a->sun_path) return false;
  memcpy(a->sun_path, path.data(), path.size());
  *len = offsetof(struct sockaddr_un, sun_path) + path.size() + 1;
  return true;
}

// localCid() -> CID of this machine, or {errno, syscall}.
Napi::Value LocalCid(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = open("/dev/vsock", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Fail(env, -1, "open");
  unsigned int cid = 0;
  if (ioctl(fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid) != 0) return Fail(env, fd, "ioctl");
  close(fd);
  return Napi::Number::New(env, cid);
}

// socketPair() -> [NativeSock, NativeSock] over AF_UNIX (tests the same I/O path).
Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int sv[2];
  if (socketpair(AF_UNIX, kSockFlags, 0, sv) != 0) return Fail(env, -1, "socketpair");
  Napi::Value a = Sock::Wrap(env, sv[0]);
  if (a.IsEmpty()) {
    close(sv[1]);
    return Napi::Value();
  }
  Napi::Value b = Sock::Wrap(env, sv[1]);
  if (b.IsEmpty()) return Napi::Value();  // `a` closes its fd when collected
  Napi::Array pair = Napi::Array::New(env, 2);
  pair.Set(0u, a);
  pair.Set(1u, b);
  return pair;
}

Napi::Value BindListen(Napi::Env env, int fd, const struct sockaddr* addr, socklen_t len,
                       int backlog) {
  if (bind(fd, addr, len) != 0) return Fail(env, fd, "bind");
  if (listen(fd, backlog) != 0) return Fail(env, fd, "listen");
  return Sock::Wrap(env, fd);
}

// listenVsock(cid, port, backlog)
Napi::Value ListenVsock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = socket(AF_VSOCK, kSockFlags, 0);
  if (fd < 0) return Fail(env, -1, "socket");
  struct sockaddr_vm a = VmAddr(U32(info[0]), U32(info[1]));
  return BindListen(env, fd, reinterpret_cast<struct sockaddr*>(&a), sizeof a,
                    info[2].As<Napi::Number>().Int32Value());
}

// listenUnix(path, backlog)
Napi::Value ListenUnix(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct sockaddr_un a;
  socklen_t len = 0;
  if (!UnixAddr(info[0].As<Napi::String>().Utf8Value(), &a, &len)) {
    return Failure(env, ENAMETOOLONG, "bind");
  }
  int fd = socket(AF_UNIX, kSockFlags, 0);
  if (fd < 0) return Fail(env, -1, "socket");
  return BindListen(env, fd, reinterpret_cast<struct sockaddr*>(&a), len,
                    info[1].As<Napi::Number>().Int32Value());
}

// Starts a non-blocking connect; the caller polls for writability, then reads soError().
Napi::Value StartConnect(Napi::Env env, int fd, const struct sockaddr* addr, socklen_t len) {
  int r;
  do {
    r = connect(fd, addr, len);
  } while (r != 0 && errno == EINTR);
  if (r != 0 && errno != EINPROGRESS) return Fail(env, fd, "connect");
  return Sock::Wrap(env, fd);
}

// connectVsock(cid, port, timeoutMs)
Napi::Value ConnectVsock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = socket(AF_VSOCK, kSockFlags, 0);
  if (fd < 0) return Fail(env, -1, "socket");
  // The kernel aborts a pending vsock connect after its own timeout (2 s by default);
  // align it with ours so a longer timeoutMs is honoured. Best effort.
  double ms = info[2].As<Napi::Number>().DoubleValue();
  if (ms > 0) {
    struct timeval tv;
    tv.tv_sec = static_cast<time_t>(ms / 1000);
    tv.tv_usec = static_cast<suseconds_t>((ms - tv.tv_sec * 1000.0) * 1000);
    setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv, sizeof tv);
  }
  struct sockaddr_vm a = VmAddr(U32(info[0]), U32(info[1]));
  return StartConnect(env, fd, reinterpret_cast<struct sockaddr*>(&a), sizeof a);
}

// connectUnix(path)
Napi::Value ConnectUnix(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct sockaddr_un a;
  socklen_t len = 0;
  if (!UnixAddr(info[0].As<Napi::String>().Utf8Value(), &a, &len)) {
    return Failure(env, ENAMETOOLONG, "connect");
  }
  int fd = socket(AF_UNIX, kSockFlags, 0);
  if (fd < 0) return Fail(env, -1, "socket");
  return StartConnect(env, fd, reinterpret_cast<struct sockaddr*>(&a), len);
}

// setSendBuffer(fd, bytes) -> the send buffer the kernel gave fd (SO_SNDBUF, as getsockopt
// reports it: twice what was asked, capped by net.core.wmem_max), or -errno. For a stream
// socket node made (libuv has no call for it): a sender whose buffer holds a whole message
// writes it at once instead of a socket buffer's worth per wakeup of its receiver.
Napi::Value SetSendBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int bytes = info[1].As<Napi::Number>().Int32Value();
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes) != 0) return Napi::Number::New(env, -errno);
  int got = 0;
  socklen_t len = sizeof got;
  if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &got, &len) != 0) return Napi::Number::New(env, -errno);
  return Napi::Number::New(env, got);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = Sock::Define(env);
  env.SetInstanceData<Napi::FunctionReference>(new Napi::FunctionReference(Napi::Persistent(ctor)));
  exports.Set("NativeSock", ctor);
  exports.Set("localCid", Napi::Function::New<LocalCid>(env, "localCid"));
  exports.Set("socketPair", Napi::Function::New<SocketPair>(env, "socketPair"));
  exports.Set("listenVsock", Napi::Function::New<ListenVsock>(env, "listenVsock"));
  exports.Set("listenUnix", Napi::Function::New<ListenUnix>(env, "listenUnix"));
  exports.Set("connectVsock", Napi::Function::New<ConnectVsock>(env, "connectVsock"));
  exports.Set("connectUnix", Napi::Function::New<ConnectUnix>(env, "connectUnix"));
  exports.Set("reduceMemory", Napi::Function::New<ReduceMemory>(env, "reduceMemory"));
  exports.Set("releaseBuffer", Napi::Function::New<ReleaseBuffer>(env, "releaseBuffer"));
  exports.Set("setSendBuffer", Napi::Function::New<SetSendBuffer>(env, "setSendBuffer"));
  exports.Set("readWithHead", Napi::Function::New<ReadWithHead>(env, "readWithHead"));
  InitLines(env, exports);
  exports.Set("VMADDR_CID_ANY", Napi::Number::New(env, VMADDR_CID_ANY));
  exports.Set("VMADDR_PORT_ANY", Napi::Number::New(env, VMADDR_PORT_ANY));
  return exports;
}

}  // namespace
}  // namespace qlog

static Napi::Object InitQlogVsock(Napi::Env env, Napi::Object exports) {
  return qlog::Init(env, exports);
}

NODE_API_MODULE(qlog_vsock, InitQlogVsock)
