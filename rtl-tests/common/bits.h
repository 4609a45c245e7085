// Bit-field access to Verilator ports of any width (CData/SData/IData/QData or VlWide), so a
// bench serves every parameterization of its module. Fields are at most 64 bits wide.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include "verilated.h"

namespace gatec_tb {

template <typename T>
inline void put(T& port, int lsb, int width, uint64_t value) {
  for (int i = 0; i < width; i++) {
    const T bit = static_cast<T>(T(1) << (lsb + i));
    if ((value >> i) & 1) port = static_cast<T>(port | bit);
    else port = static_cast<T>(port & static_cast<T>(~bit));
  }
}

template <std::size_t N>
inline void put(VlWide<N>& port, int lsb, int width, uint64_t value) {
  for (int i = 0; i < width; i++) {
    const int b = lsb + i;
    const uint32_t bit = 1u << (b % 32);
    if ((value >> i) & 1) port[b / 32] |= bit;
    else port[b / 32] &= ~bit;
  }
}

template <typename T>
inline uint64_t get(const T& port, int lsb, int width) {
  uint64_t v = 0;
  for (int i = 0; i < width; i++) v |= static_cast<uint64_t>((port >> (lsb + i)) & 1) << i;
  return v;
}

template <std::size_t N>
inline uint64_t get(const VlWide<N>& port, int lsb, int width) {
  uint64_t v = 0;
  for (int i = 0; i < width; i++) {
    const int b = lsb + i;
    v |= static_cast<uint64_t>((port[b / 32] >> (b % 32)) & 1) << i;
  }
  return v;
}

/** Bytes [0, n) of a port as lowercase hex, byte 0 first. */
template <typename T>
inline std::string hexBytes(const T& port, int n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (int k = 0; k < n; k++) {
    const unsigned b = static_cast<unsigned>(get(port, 8 * k, 8));
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}

}  // namespace gatec_tb
