// The byte paths of the link in C++: the enclave splitting what tail read into lines
// (splitLines) and writing them as PackedForward entries (encodeLines), the parent finding where
// the lines are in them (scanLogEntries) and copying them to a file (gatherRun). Their
// JavaScript originals (plugins/tail/tail-lines.ts scanLines, core/forward/entry-encoder.ts
// EntryWriter.lines, entry-decoder.ts EntryReader.scanLinesJs, rotated-file-writer.ts
// nextBlockPart) stay the reference and the path without the addon; these are faster.
//
// scanLogEntries reads only the common form, what vsock-forward sends for lines:
//   [EventTime, {"log": <str>, "_qlog": {<str key>: <scalar>, ...}}]   (keys in either order)
// and returns SCAN_UNSURE for anything else, however harmless: the JavaScript scan then decides
// (it may still find lines, or send the message to the full decoder). So this code never has to
// agree with the JavaScript on an edge case, only on what it claims.
#include <stdint.h>
#include <string.h>

#include <napi.h>

namespace qlog {

namespace {

constexpr int32_t kUnsure = -1;
constexpr int32_t kFull = -2;

uint32_t Be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}
uint16_t Be16(const uint8_t* p) { return uint16_t((p[0] << 8) | p[1]); }

// Strict UTF-8 (no overlongs, no surrogates, <= U+10FFFF): the bytes that decode to a string
// without U+FFFD replacements, so two such byte strings are equal exactly when their strings are.
bool ValidUtf8(const uint8_t* p, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = p[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; k++) {
      if ((p[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff))) return false;
    i += len;
  }
  return true;
}

struct Reader {
  const uint8_t* b;
  size_t pos;
  size_t end;
};

// A str (fixstr, str8/16/32): its bytes' start and length; false for another type or a
// truncated value (the position is then meaningless: the caller gives up).
bool Str(Reader& r, size_t* start, size_t* len) {
  if (r.pos >= r.end) return false;
  uint8_t t = r.b[r.pos];
  size_t head;
  size_t n;
  if (t >= 0xa0 && t <= 0xbf) {
    head = 1;
    n = t & 0x1f;
  } else if (t == 0xd9) {
    if (r.pos + 2 > r.end) return false;
    head = 2;
    n = r.b[r.pos + 1];
  } else if (t == 0xda) {
    if (r.pos + 3 > r.end) return false;
    head = 3;
    n = Be16(r.b + r.pos + 1);
  } else if (t == 0xdb) {
    if (r.pos + 5 > r.end) return false;
    head = 5;
    n = Be32(r.b + r.pos + 1);
  } else {
    return false;
  }
  if (r.pos + head + n > r.end) return false;
  *start = r.pos + head;
  *len = n;
  r.pos += head + n;
  return true;
}

// A map key as the JavaScript reads them (fixstr or str8 only).
bool Key(Reader& r, size_t* start, size_t* len) {
  if (r.pos >= r.end) return false;
  uint8_t t = r.b[r.pos];
  if (!((t >= 0xa0 && t <= 0xbf) || t == 0xd9)) return false;
  return Str(r, start, len);
}

bool Is(const Reader& r, size_t start, size_t len, const char* s) {
  size_t n = strlen(s);
  return len == n && memcmp(r.b + start, s, n) == 0;
}

// One `_qlog` value: a seq number (NaN when it is not a finite number in JavaScript's terms),
// or just checked to be a scalar the JavaScript reads. False: give up.
bool Scalar(Reader& r, double* num, bool* isNum) {
  *isNum = false;
  if (r.pos >= r.end) return false;
  const uint8_t* p = r.b + r.pos;
  uint8_t t = *p;
  size_t need = 1;
  if (t <= 0x7f) {
    *num = t;
    *isNum = true;
  } else if (t >= 0xe0) {
    *num = int(t) - 0x100;
    *isNum = true;
  } else if ((t >= 0xa0 && t <= 0xbf) || (t >= 0xd9 && t <= 0xdb)) {
    size_t s;
    size_t n;
    return Str(r, &s, &n);
  } else if (t == 0xc0 || t == 0xc2 || t == 0xc3) {
    need = 1;
  } else {
    switch (t) {
      case 0xcc:
        need = 2;
        break;
      case 0xcd:
        need = 3;
        break;
      case 0xce:
        need = 5;
        break;
      case 0xd0:
        need = 2;
        break;
      case 0xd1:
        need = 3;
        break;
      case 0xd2:
        need = 5;
        break;
      case 0xcb:
      case 0xcf:
      case 0xd3:
        need = 9;
        break;
      default:
        // float32 and anything else: not here.
        return false;
    }
    if (r.pos + need > r.end) return false;
    *isNum = true;
    switch (t) {
      case 0xcc:
        *num = p[1];
        break;
      case 0xcd:
        *num = Be16(p + 1);
        break;
      case 0xce:
        *num = Be32(p + 1);
        break;
      case 0xd0:
        *num = int8_t(p[1]);
        break;
      case 0xd1:
        *num = int16_t(Be16(p + 1));
        break;
      case 0xd2:
        *num = int32_t(Be32(p + 1));
        break;
      case 0xcf:
      case 0xd3: {
        // uint64/int64, as the JavaScript reads them: a number up to 2^53 in magnitude, beyond
        // that a bigint (not a number: a seq is then absent, and the rest is left to the JavaScript).
        uint32_t hi = Be32(p + 1);
        uint32_t lo = Be32(p + 5);
        if (t == 0xcf) {
          if (!(hi < 0x200000 || (hi == 0x200000 && lo == 0))) return false;
          *num = double(hi) * 4294967296.0 + double(lo);
        } else {
          int32_t shi = int32_t(hi);
          if (!(shi >= -0x200000 && (shi < 0x200000 || (shi == 0x200000 && lo == 0)))) return false;
          *num = double(shi) * 4294967296.0 + double(lo);
        }
        break;
      }
      case 0xcb: {
        uint64_t bits = (uint64_t(Be32(p + 1)) << 32) | Be32(p + 5);
        double d;
        memcpy(&d, &bits, sizeof d);
        // Infinity and NaN are not finite: seq counts as absent.
        if (!(d - d == 0)) *isNum = false;
        *num = d;
        break;
      }
    }
  }
  r.pos += need;
  return true;
}

template <typename T>
T* Elements(const Napi::Value& v, size_t* length) {
  Napi::TypedArray a = v.As<Napi::TypedArray>();
  *length = a.ElementLength();
  return reinterpret_cast<T*>(static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset());
}

// Elements of one of several per-line arrays used together: `cap` (start it at SIZE_MAX) becomes
// the shortest one's length, the entries all of them have.
template <typename T>
T* Column(const Napi::Value& v, size_t* cap) {
  size_t n;
  T* p = Elements<T>(v, &n);
  if (n < *cap) *cap = n;
  return p;
}

// scanLogEntries(entries, starts, ends, srcOf, seqs, srcRanges, info) -> count, or -1 (unsure:
// ask the JavaScript scan) or -2 (starts/ends/srcOf/seqs are full: grow them and call again).
// Fills, per line i: starts[i]/ends[i] (the log string's bytes), srcOf[i] (index of its
// `_qlog.src` among the distinct srcs, -1 for none), seqs[i] (`_qlog.seq`, NaN for none);
// srcRanges[2k], srcRanges[2k+1]: start and length of distinct src k (valid UTF-8, at most
// srcRanges.length / 2 of them, else -1); info[0]: line bytes + 1 per line, info[1]: srcs.
Napi::Value ScanLogEntries(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Buffer<uint8_t> buf = info[0].As<Napi::Buffer<uint8_t>>();
  size_t cap = SIZE_MAX;
  uint32_t* starts = Column<uint32_t>(info[1], &cap);
  uint32_t* ends = Column<uint32_t>(info[2], &cap);
  int32_t* srcOf = Column<int32_t>(info[3], &cap);
  double* seqs = Column<double>(info[4], &cap);
  size_t rangeCap;
  uint32_t* ranges = Elements<uint32_t>(info[5], &rangeCap);
  rangeCap /= 2;
  size_t infoLen;
  double* out = Elements<double>(info[6], &infoLen);
  if (infoLen < 2 || buf.Length() > 0xffffffffu) return Napi::Number::New(env, kUnsure);

  Reader r{buf.Data(), 0, buf.Length()};
  const double nan = __builtin_nan("");
  size_t count = 0;
  size_t nsrcs = 0;
  double bytes = 0;
  int32_t lastIdx = -1;
  size_t lastStart = 0;
  size_t lastLen = 0;
  bool haveLast = false;
  // The entry before, when it was {"log": <str>, "_qlog": {..., "seq": <scalar>}} (seq the last
  // key): where its bytes from "_qlog" up to the seq value are (vsock-forward writes them alike
  // for every line of a block), and its src index. An entry with the same bytes there has the
  // same src and meta: only its line and seq are read.
  bool rep = false;
  size_t repStart = 0;
  size_t repLen = 0;
  int32_t repIdx = -1;
  while (r.pos < r.end) {
    if (count == cap) return Napi::Number::New(env, kFull);
    // [EventTime, map of 2]
    if (r.pos + 12 > r.end) return Napi::Number::New(env, kUnsure);
    const uint8_t* p = r.b + r.pos;
    if (p[0] != 0x92 || p[1] != 0xd7 || p[2] != 0x00 || Be32(p + 7) >= 1000000000u || p[11] != 0x82) {
      return Napi::Number::New(env, kUnsure);
    }
    r.pos += 12;
    if (rep && r.pos + 4 <= r.end && r.b[r.pos] == 0xa3 && memcmp(r.b + r.pos + 1, "log", 3) == 0) {
      Reader t{r.b, r.pos + 4, r.end};
      size_t ls;
      size_t ll;
      double v = 0;
      bool isNum = false;
      if (Str(t, &ls, &ll) && t.pos + repLen <= t.end && memcmp(t.b + t.pos, t.b + repStart, repLen) == 0) {
        t.pos += repLen;
        if (Scalar(t, &v, &isNum)) {
          starts[count] = uint32_t(ls);
          ends[count] = uint32_t(ls + ll);
          srcOf[count] = repIdx;
          seqs[count] = isNum ? v : nan;
          bytes += double(ll) + 1;
          count++;
          r.pos = t.pos;
          continue;
        }
      }
    }
    rep = false;
    bool logFirst = false;
    size_t seqAt = 0;
    bool haveLog = false;
    bool haveMeta = false;
    size_t logStart = 0;
    size_t logLen = 0;
    bool haveSrc = false;
    size_t srcStart = 0;
    size_t srcLen = 0;
    double seq = nan;
    for (int k = 0; k < 2; k++) {
      size_t ks;
      size_t kl;
      if (!Key(r, &ks, &kl)) return Napi::Number::New(env, kUnsure);
      if (Is(r, ks, kl, "log") && !haveLog) {
        if (!Str(r, &logStart, &logLen)) return Napi::Number::New(env, kUnsure);
        haveLog = true;
        logFirst = k == 0;
      } else if (Is(r, ks, kl, "_qlog") && !haveMeta) {
        haveMeta = true;
        if (r.pos >= r.end || r.b[r.pos] < 0x80 || r.b[r.pos] > 0x8f) return Napi::Number::New(env, kUnsure);
        int mn = r.b[r.pos] & 0x0f;
        r.pos++;
        for (int i = 0; i < mn; i++) {
          size_t ms;
          size_t ml;
          if (!Key(r, &ms, &ml) || Is(r, ms, ml, "__proto__")) return Napi::Number::New(env, kUnsure);
          if (Is(r, ms, ml, "src")) {
            // The last occurrence counts; a value that is not a str means "no src".
            if (r.pos < r.end && ((r.b[r.pos] >= 0xa0 && r.b[r.pos] <= 0xbf) || (r.b[r.pos] >= 0xd9 && r.b[r.pos] <= 0xdb))) {
              if (!Str(r, &srcStart, &srcLen)) return Napi::Number::New(env, kUnsure);
              haveSrc = true;
            } else {
              double ignored;
              bool isNum;
              if (!Scalar(r, &ignored, &isNum)) return Napi::Number::New(env, kUnsure);
              haveSrc = false;
            }
          } else {
            double v = 0;
            bool isNum;
            size_t at = r.pos;
            if (!Scalar(r, &v, &isNum)) return Napi::Number::New(env, kUnsure);
            if (Is(r, ms, ml, "seq")) {
              seq = isNum ? v : nan;
              if (i == mn - 1) seqAt = at;
            }
          }
        }
      } else {
        // "sealed", a second "log" or "_qlog", any other key: the JavaScript decides.
        return Napi::Number::New(env, kUnsure);
      }
    }
    int32_t idx = -1;
    if (haveSrc) {
      if (haveLast && srcLen == lastLen && memcmp(r.b + srcStart, r.b + lastStart, srcLen) == 0) {
        idx = lastIdx;
      } else {
        for (size_t k = 0; k < nsrcs; k++) {
          if (ranges[2 * k + 1] == srcLen && memcmp(r.b + ranges[2 * k], r.b + srcStart, srcLen) == 0) {
            idx = int32_t(k);
            break;
          }
        }
        if (idx < 0) {
          if (nsrcs == rangeCap || !ValidUtf8(r.b + srcStart, srcLen)) return Napi::Number::New(env, kUnsure);
          ranges[2 * nsrcs] = uint32_t(srcStart);
          ranges[2 * nsrcs + 1] = uint32_t(srcLen);
          idx = int32_t(nsrcs++);
        }
        haveLast = true;
        lastIdx = idx;
        lastStart = srcStart;
        lastLen = srcLen;
      }
    }
    if (logFirst && seqAt > 0) {
      rep = true;
      repStart = logStart + logLen;
      repLen = seqAt - repStart;
      repIdx = idx;
    }
    starts[count] = uint32_t(logStart);
    ends[count] = uint32_t(logStart + logLen);
    srcOf[count] = idx;
    seqs[count] = seq;
    bytes += double(logLen) + 1;
    count++;
  }
  out[0] = bytes;
  out[1] = double(nsrcs);
  return Napi::Number::New(env, double(count));
}


// A msgpack unsigned integer (v < 2^53, checked by the caller) at d; returns the bytes written.
size_t PutUint(uint8_t* d, double v) {
  if (v < 0x80) {
    d[0] = uint8_t(v);
    return 1;
  }
  if (v < 0x100) {
    d[0] = 0xcc;
    d[1] = uint8_t(v);
    return 2;
  }
  if (v < 0x10000) {
    uint32_t x = uint32_t(v);
    d[0] = 0xcd;
    d[1] = uint8_t(x >> 8);
    d[2] = uint8_t(x);
    return 3;
  }
  if (v < 4294967296.0) {
    uint32_t x = uint32_t(v);
    d[0] = 0xce;
    d[1] = uint8_t(x >> 24);
    d[2] = uint8_t(x >> 16);
    d[3] = uint8_t(x >> 8);
    d[4] = uint8_t(x);
    return 5;
  }
  uint64_t x = uint64_t(v);
  d[0] = 0xcf;
  for (int k = 0; k < 8; k++) d[1 + k] = uint8_t(x >> (56 - 8 * k));
  return 9;
}

// A str header for n bytes at d; returns its size.
size_t PutStrHeader(uint8_t* d, size_t n) {
  if (n < 32) {
    d[0] = uint8_t(0xa0 | n);
    return 1;
  }
  if (n < 0x100) {
    d[0] = 0xd9;
    d[1] = uint8_t(n);
    return 2;
  }
  if (n < 0x10000) {
    d[0] = 0xda;
    d[1] = uint8_t(n >> 8);
    d[2] = uint8_t(n);
    return 3;
  }
  d[0] = 0xdb;
  d[1] = uint8_t(n >> 24);
  d[2] = uint8_t(n >> 16);
  d[3] = uint8_t(n >> 8);
  d[4] = uint8_t(n);
  return 5;
}

// encodeLines(dst, pos, head, plain, src, starts, ends, seqs, base, from, to, bounds) -> the
// position after the last entry, or -1 (a seq past 2^53: the JavaScript writes it as a float).
// Per line i in [from, to): head, str header + src[starts[i], ends[i]), plain, uint(base +
// seqs[i]): the entry EntryWriter.lines writes for a line without flags. bounds (a Uint32Array,
// or undefined): the position after entry k at bounds[k]. dst must have room (the caller
// measured: a line that does not fit throws).
Napi::Value EncodeLines(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Buffer<uint8_t> dst = info[0].As<Napi::Buffer<uint8_t>>();
  size_t pos = info[1].As<Napi::Number>().Uint32Value();
  Napi::Buffer<uint8_t> head = info[2].As<Napi::Buffer<uint8_t>>();
  Napi::Buffer<uint8_t> plain = info[3].As<Napi::Buffer<uint8_t>>();
  Napi::Buffer<uint8_t> src = info[4].As<Napi::Buffer<uint8_t>>();
  size_t lines = SIZE_MAX;
  const uint32_t* starts = Column<uint32_t>(info[5], &lines);
  const uint32_t* ends = Column<uint32_t>(info[6], &lines);
  const uint32_t* seqs = Column<uint32_t>(info[7], &lines);
  double base = info[8].As<Napi::Number>().DoubleValue();
  size_t from = info[9].As<Napi::Number>().Uint32Value();
  size_t to = info[10].As<Napi::Number>().Uint32Value();
  size_t nb = 0;
  uint32_t* bounds = info[11].IsTypedArray() ? Elements<uint32_t>(info[11], &nb) : nullptr;
  if (to > lines || (bounds != nullptr && to - from > nb) || !(base >= 0)) {
    Napi::RangeError::New(env, "encodeLines: arguments out of range").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (to > from && base + double(seqs[to - 1]) > 9007199254740991.0) return Napi::Number::New(env, -1);
  uint8_t* d = dst.Data();
  size_t cap = dst.Length();
  const uint8_t* s = src.Data();
  size_t sl = src.Length();
  const size_t hl = head.Length();
  const size_t pl = plain.Length();
  for (size_t i = from; i < to; i++) {
    size_t a = starts[i];
    size_t b = ends[i];
    double seq = base + double(seqs[i]);
    if (seq > 9007199254740991.0) return Napi::Number::New(env, -1);
    if (b < a || b > sl || pos + hl + 5 + (b - a) + pl + 9 > cap) {
      Napi::RangeError::New(env, "encodeLines: a line lies outside its buffer or does not fit").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    memcpy(d + pos, head.Data(), hl);
    pos += hl;
    pos += PutStrHeader(d + pos, b - a);
    memcpy(d + pos, s + a, b - a);
    pos += b - a;
    memcpy(d + pos, plain.Data(), pl);
    pos += pl;
    pos += PutUint(d + pos, seq);
    if (bounds != nullptr) bounds[i - from] = uint32_t(pos);
  }
  return Napi::Number::New(env, double(pos));
}

// gatherRun(dst, pos, src, starts, ends, srcOf, seqs, from, to, cur, mark, room, info) -> the
// index it stopped at. rotated-file's part of forwarded lines (nextBlockPart), the lines that need
// no decision in JavaScript: from line `from` on, each line that has no src or no seq (srcOf < 0,
// seq NaN: always written), or whose src is `cur` and whose seq is above `mark` (NaN: no mark
// yet; the mark becomes that seq) is copied, followed by a newline, to dst from pos. Stops before
// a line of another src or at or below the mark (the JavaScript decides), before a line that does
// not fit in dst (it grows dst), and after the line that takes pos to `room` or past it.
// info[0]: pos after the lines copied; info[1]: the mark after them (NaN: none); info[2]: 1 when
// a line of `cur` was copied (the mark moved).
Napi::Value GatherRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Buffer<uint8_t> dst = info[0].As<Napi::Buffer<uint8_t>>();
  size_t pos = info[1].As<Napi::Number>().Uint32Value();
  Napi::Buffer<uint8_t> src = info[2].As<Napi::Buffer<uint8_t>>();
  size_t cap = SIZE_MAX;
  const uint32_t* starts = Column<uint32_t>(info[3], &cap);
  const uint32_t* ends = Column<uint32_t>(info[4], &cap);
  const int32_t* srcOf = Column<int32_t>(info[5], &cap);
  const double* seqs = Column<double>(info[6], &cap);
  size_t from = info[7].As<Napi::Number>().Uint32Value();
  size_t to = info[8].As<Napi::Number>().Uint32Value();
  int32_t cur = info[9].As<Napi::Number>().Int32Value();
  double mark = info[10].As<Napi::Number>().DoubleValue();
  double room = info[11].As<Napi::Number>().DoubleValue();
  size_t outLen;
  double* out = Elements<double>(info[12], &outLen);
  if (to > cap || from > to || outLen < 3) {
    Napi::RangeError::New(env, "gatherRun: arguments out of range").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  uint8_t* d = dst.Data();
  const size_t dcap = dst.Length();
  const uint8_t* s = src.Data();
  const size_t sl = src.Length();
  bool moved = false;
  size_t j = from;
  for (; j < to; j++) {
    const int32_t si = srcOf[j];
    const double seq = seqs[j];
    const bool keyed = si >= 0 && seq == seq;
    if (keyed && (si != cur || !(mark != mark || seq > mark))) break;
    const size_t a = starts[j];
    const size_t b = ends[j];
    if (b < a || b > sl) {
      Napi::RangeError::New(env, "gatherRun: a line lies outside its buffer").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (pos + (b - a) + 1 > dcap) break;
    memcpy(d + pos, s + a, b - a);
    pos += b - a;
    d[pos++] = '\n';
    if (keyed) {
      mark = seq;
      moved = true;
    }
    if (double(pos) >= room) {
      j++;
      break;
    }
  }
  out[0] = double(pos);
  out[1] = mark;
  out[2] = moved ? 1 : 0;
  return Napi::Number::New(env, double(j));
}

// splitLines(buf, from, to, maxLine, starts, ends, seqs, flags, index, seqBase, info) -> count.
// Tail's common case in one call: the complete lines of buf[from, to) (`to` just after an LF), each
// as its range without the LF (and a CR before it) and the offset after it, from entry `index`
// of the arrays on: starts[i], ends[i], seqs[i] = seqBase + (position after the LF), flags[i] = 0.
// Stops at the first line longer than maxLine (the JavaScript splits it: tail-lines.ts) or when
// the arrays are full. Returns the count of entries filled; info[0]: where it stopped (`to`, or
// the start of the line it left).
Napi::Value SplitLines(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Buffer<uint8_t> buf = info[0].As<Napi::Buffer<uint8_t>>();
  size_t from = info[1].As<Napi::Number>().Uint32Value();
  size_t to = info[2].As<Napi::Number>().Uint32Value();
  size_t maxLine = info[3].As<Napi::Number>().Uint32Value();
  size_t cap = SIZE_MAX;
  uint32_t* starts = Column<uint32_t>(info[4], &cap);
  uint32_t* ends = Column<uint32_t>(info[5], &cap);
  uint32_t* seqs = Column<uint32_t>(info[6], &cap);
  uint8_t* flags = Column<uint8_t>(info[7], &cap);
  size_t index = info[8].As<Napi::Number>().Uint32Value();
  uint32_t seqBase = info[9].As<Napi::Number>().Uint32Value();
  size_t outLen;
  double* out = Elements<double>(info[10], &outLen);
  if (to > buf.Length() || from > to || index > cap || outLen < 1) {
    Napi::RangeError::New(env, "splitLines: arguments out of range").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const uint8_t* b = buf.Data();
  size_t s = from;
  while (s < to && index < cap) {
    const void* hit = memchr(b + s, '\n', to - s);
    if (hit == nullptr) break;
    size_t nl = static_cast<const uint8_t*>(hit) - b;
    size_t e = nl;
    if (e > s && b[e - 1] == '\r') e--;
    if (e - s > maxLine) break;
    starts[index] = uint32_t(s);
    ends[index] = uint32_t(e);
    seqs[index] = seqBase + uint32_t(nl + 1);
    flags[index] = 0;
    index++;
    s = nl + 1;
  }
  out[0] = double(s);
  return Napi::Number::New(env, double(index));
}

}  // namespace

void InitLines(Napi::Env env, Napi::Object exports) {
  exports.Set("scanLogEntries", Napi::Function::New<ScanLogEntries>(env, "scanLogEntries"));
  exports.Set("encodeLines", Napi::Function::New<EncodeLines>(env, "encodeLines"));
  exports.Set("splitLines", Napi::Function::New<SplitLines>(env, "splitLines"));
  exports.Set("gatherRun", Napi::Function::New<GatherRun>(env, "gatherRun"));
}

}  // namespace qlog
