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

}  // namespace qlog
