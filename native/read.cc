// readWithHead: tail's read of a followed file and the re-read of its first bytes, in one
// thread-pool job. Tail checks that a file's head is unchanged after each read (a copytruncate
// that refilled the file past our offset would otherwise pass for more of the same stream), and
// with node's fs that is two round trips through the thread pool per read, one after the other.
// Here the job reads the data, then the head (in that order, as before: a replacement between the
// two shows in the head), and reports both at once.
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <string>

#include <napi.h>

namespace qlog {

namespace {

ssize_t PreadAll(int fd, uint8_t* buf, size_t len, off_t pos) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = pread(fd, buf + done, len - done, pos + off_t(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) break;
    done += size_t(n);
  }
  return ssize_t(done);
}

class ReadWorker : public Napi::AsyncWorker {
 public:
  ReadWorker(Napi::Function cb, int fd, Napi::Buffer<uint8_t> data, size_t len, double pos, Napi::Buffer<uint8_t> head, size_t headLen)
      : Napi::AsyncWorker(cb, "qlog.readWithHead"),
        fd_(fd),
        data_(data.Data()),
        len_(len),
        pos_(off_t(pos)),
        head_(head.Data()),
        headLen_(headLen),
        dataRef_(Napi::Persistent(data)),
        headRef_(Napi::Persistent(head)) {}

  void Execute() override {
    n_ = PreadAll(fd_, data_, len_, pos_);
    if (n_ < 0) {
      err_ = errno;
      return;
    }
    hn_ = PreadAll(fd_, head_, headLen_, 0);
    if (hn_ < 0) err_ = errno;
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (err_ != 0) {
      Napi::Error e = Napi::Error::New(env, std::string("read: ") + strerror(err_));
      e.Set("errno", Napi::Number::New(env, -err_));
      e.Set("code", Napi::String::New(env, ErrName(err_)));
      e.Set("syscall", Napi::String::New(env, "read"));
      Callback().Call({e.Value()});
      return;
    }
    Callback().Call({env.Null(), Napi::Number::New(env, double(n_)), Napi::Number::New(env, double(hn_))});
  }

 private:
  static const char* ErrName(int e) {
    switch (e) {
      case EBADF:
        return "EBADF";
      case EIO:
        return "EIO";
      case EISDIR:
        return "EISDIR";
      case EINVAL:
        return "EINVAL";
      case EAGAIN:
        return "EAGAIN";
      default:
        return "EIO";
    }
  }

  int fd_;
  uint8_t* data_;
  size_t len_;
  off_t pos_;
  uint8_t* head_;
  size_t headLen_;
  // The buffers stay alive (and where they are) until the job is done.
  Napi::Reference<Napi::Buffer<uint8_t>> dataRef_;
  Napi::Reference<Napi::Buffer<uint8_t>> headRef_;
  ssize_t n_ = 0;
  ssize_t hn_ = 0;
  int err_ = 0;
};

}  // namespace

// readWithHead(fd, data, length, position, head, headLength, cb): on the thread pool, reads up to
// `length` bytes at `position` into `data`, then up to `headLength` bytes at 0 into `head`; then
// cb(null, bytesRead, headBytesRead), or cb(err) with errno/code/syscall. The caller keeps fd open
// until cb has run.
Napi::Value ReadWithHead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Buffer<uint8_t> data = info[1].As<Napi::Buffer<uint8_t>>();
  size_t len = info[2].As<Napi::Number>().Uint32Value();
  double pos = info[3].As<Napi::Number>().DoubleValue();
  Napi::Buffer<uint8_t> head = info[4].As<Napi::Buffer<uint8_t>>();
  size_t headLen = info[5].As<Napi::Number>().Uint32Value();
  Napi::Function cb = info[6].As<Napi::Function>();
  if (fd < 0 || len > data.Length() || headLen > head.Length() || !(pos >= 0 && pos <= 9007199254740991.0)) {
    Napi::RangeError::New(env, "readWithHead: arguments out of range").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  (new ReadWorker(cb, fd, data, len, pos, head, headLen))->Queue();
  return env.Undefined();
}

}  // namespace qlog
