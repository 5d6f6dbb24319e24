// reduceMemory(): give back memory an idle agent no longer uses (core/agent.ts calls
// it once the agent is idle). V8 frees the fragmented heap of startup (module loading, schema
// compilation) or of a busy period only when its memory reducer happens to run (8-24 s later,
// or never on a quiet agent): a full, compacting, memory-reducing GC now. Then glibc returns
// its freed heap pages (malloc_trim).
#include <napi.h>
#include <v8.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace qlog {

Napi::Value ReduceMemory(const Napi::CallbackInfo& info) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  if (isolate != nullptr) isolate->LowMemoryNotification();
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
  return info.Env().Undefined();
}

// releaseBuffer(buf) -> true once buf's memory is freed: detaches the ArrayBuffer that buf views
// whole (false, untouched, for a view of part of one, or one that cannot be detached). For a
// socket's read buffer whose bytes were copied elsewhere: freed now, the next read's allocation
// gets the same memory back, instead of garbage that waits for a GC (a receiver that allocates
// little JavaScript collects rarely, and ~20 MiB of 64 KiB read buffers piled up between
// collections).
Napi::Value ReleaseBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray()) return Napi::Boolean::New(env, false);
  Napi::TypedArray view = info[0].As<Napi::TypedArray>();
  Napi::ArrayBuffer ab = view.ArrayBuffer();
  if (view.ByteOffset() != 0 || view.ByteLength() != ab.ByteLength() || ab.ByteLength() == 0 || ab.IsDetached()) {
    return Napi::Boolean::New(env, false);
  }
  ab.Detach();
  if (env.IsExceptionPending()) {
    env.GetAndClearPendingException();
    return Napi::Boolean::New(env, false);
  }
  return Napi::Boolean::New(env, true);
}

}  // namespace qlog
