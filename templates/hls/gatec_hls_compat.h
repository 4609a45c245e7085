// gatec HLS compatibility layer: the kernels (the engine's and the spatial architecture's) are
// written once and compile both in Vitis HLS (ap_uint beats, hls::stream, real pragmas) and with
// any C++ compiler (plain byte arrays and FIFOs, pragmas removed).
// No vendor header ships with gatec; Vitis brings its own ap_int.h.
//
// Vitis: __SYNTHESIS__ during synthesis, GATEC_VITIS (run_hls.tcl passes it) in C simulation
// and co-simulation, so the DRAM port has the same type in all three.
#ifndef GATEC_HLS_COMPAT_H
#define GATEC_HLS_COMPAT_H

#include <cstdint>

#if defined(__SYNTHESIS__) || defined(GATEC_VITIS)
#include <ap_axi_sdata.h>
#include <ap_int.h>
#include <hls_stream.h>

// Pragmas travel through a macro so that plain compilers, which warn on unknown pragmas
// (-Wall -Werror), never see them; Vitis expands _Pragma like a written #pragma.
#define GATEC_PRAGMA(x) _Pragma(#x)
#define GATEC_HLS(x) GATEC_PRAGMA(HLS x)
// Loop labels name the loops in Vitis reports; plain compilers would warn that they are unused.
#define GATEC_LOOP(name) name:

// One DRAM beat: N bytes, byte k in bits 8k+7:8k (docs/engine.md, "Memory port").
template <unsigned N>
using gatec_bytes = ap_uint<8 * N>;

template <unsigned N>
inline uint8_t gatec_byte(const gatec_bytes<N>& v, unsigned k) {
  return static_cast<uint8_t>(v.range(8 * k + 7, 8 * k));
}
template <unsigned N>
inline void gatec_set_byte(gatec_bytes<N>& v, unsigned k, uint8_t b) {
  v.range(8 * k + 7, 8 * k) = b;
}

// Streams (the spatial architecture's valid/ready ports, docs/spatial.md): hls::stream of
// AXI-Stream beats, int8 data with TLAST.
template <typename T, int Depth = 0>
using gatec_stream = hls::stream<T, Depth>;
using gatec_axis8 = ap_axis<8, 0, 0, 0>;

inline gatec_axis8 gatec_axis_beat(int8_t data, bool last) {
  gatec_axis8 b;
  b.data = data;
  b.keep = -1;
  b.strb = -1;
  b.last = last ? 1 : 0;
  return b;
}
inline int8_t gatec_axis_data(const gatec_axis8& b) { return static_cast<int8_t>(b.data.to_int()); }
inline bool gatec_axis_last(const gatec_axis8& b) { return b.last != 0; }
#else
#define GATEC_HLS(x)
#define GATEC_LOOP(name)

template <unsigned N>
struct gatec_bytes {
  uint8_t b[N];
};

template <unsigned N>
inline uint8_t gatec_byte(const gatec_bytes<N>& v, unsigned k) {
  return v.b[k];
}
template <unsigned N>
inline void gatec_set_byte(gatec_bytes<N>& v, unsigned k, uint8_t b) {
  v.b[k] = b;
}

// Streams: a FIFO with hls::stream's read/write/empty/full, bounded (Depth elements, or
// kGatecStreamDepth for the default 0) so that it needs no allocation. Reading an empty stream
// gives a default beat and writing a full one drops the beat, as an overrun hardware FIFO would;
// the testbench checks empty() around every call.
constexpr unsigned kGatecStreamDepth = 1u << 16;

template <typename T, int Depth = 0>
class gatec_stream {
 public:
  static constexpr unsigned kCapacity = Depth > 0 ? static_cast<unsigned>(Depth) : kGatecStreamDepth;
  bool empty() const { return count_ == 0; }
  bool full() const { return count_ == kCapacity; }
  unsigned size() const { return count_; }
  T read() {
    if (count_ == 0) return T();
    const T v = buf_[head_];
    head_ = (head_ + 1) % kCapacity;
    --count_;
    return v;
  }
  void read(T& v) { v = read(); }
  void write(const T& v) {
    if (count_ == kCapacity) return;
    buf_[(head_ + count_) % kCapacity] = v;
    ++count_;
  }
  gatec_stream& operator>>(T& v) {
    v = read();
    return *this;
  }
  gatec_stream& operator<<(const T& v) {
    write(v);
    return *this;
  }

 private:
  T buf_[kCapacity] = {};
  unsigned head_ = 0;
  unsigned count_ = 0;
};

struct gatec_axis8 {
  int8_t data;
  bool last;
};

inline gatec_axis8 gatec_axis_beat(int8_t data, bool last) { return gatec_axis8{data, last}; }
inline int8_t gatec_axis_data(const gatec_axis8& b) { return b.data; }
inline bool gatec_axis_last(const gatec_axis8& b) { return b.last; }
#endif

#endif  // GATEC_HLS_COMPAT_H
