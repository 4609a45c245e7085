// gatec HLS compatibility layer: the kernel is written once and compiles both in Vitis HLS (with
// ap_uint beats and real pragmas) and with any C++ compiler (plain byte arrays, pragmas removed).
// No vendor header ships with gatec; Vitis brings its own ap_int.h.
//
// Vitis: __SYNTHESIS__ during synthesis, GATEC_VITIS (run_hls.tcl passes it) in C simulation
// and co-simulation, so the DRAM port has the same type in all three.
#ifndef GATEC_HLS_COMPAT_H
#define GATEC_HLS_COMPAT_H

#include <cstdint>

#if defined(__SYNTHESIS__) || defined(GATEC_VITIS)
#include <ap_int.h>

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
#endif

#endif  // GATEC_HLS_COMPAT_H
