// Pieces shared by the memory-port benches (mem-port/, zero-block-dma/): clocking, the 64-byte
// instruction input, the DRAM read port driving, the request/data hold checks and the trace
// lines they print ("req", "row", "beat", "error ...").
#pragma once
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include "bits.h"
#include "dram.h"

namespace gatec_tb {

/** Counts protocol errors; prints the first 20. */
struct Errors {
  int n = 0;
  __attribute__((format(printf, 2, 3))) void operator()(const char* fmt, ...) {
    if (n++ < 20) {
      va_list ap;
      va_start(ap, fmt);
      std::vprintf(fmt, ap);
      va_end(ap);
    }
  }
};

/** Past `limit` cycles: a timeout error; true ends the command. */
inline bool timedOut(long c, long limit, Errors& err) {
  if (c <= limit) return false;
  err("error: timeout\n");
  return true;
}

/** A command's last line: "end <cycles> <errors>". */
inline void endCommand(long t, const Errors& err) {
  std::printf("end %ld %d\n", t, err.n);
  std::fflush(stdout);
}

/** Reset pulse with the clock low. */
template <typename D>
inline void reset(D& dut) {
  dut.clk_i = 0;
  dut.rst_ni = 0;
  dut.eval();
  dut.rst_ni = 1;
  dut.eval();
}

/** One rising and falling clock edge. */
template <typename D>
inline void tick(D& dut) {
  dut.clk_i = 1;
  dut.eval();
  dut.clk_i = 0;
  dut.eval();
}

/**
 * The instruction input: the 32 halfwords `h` with start_i, random otherwise (the instruction is
 * only valid with start_i; the engine's FIFO head moves on after the pop).
 */
template <typename T>
inline void driveInstr(T& instr, bool start, const long (&h)[32], Prng& rng) {
  for (int k = 0; k < 32; k++) put(instr, 16 * k, 16, start ? static_cast<uint64_t>(h[k]) & 0xffff : rng.next() & 0xffff);
}

/** Reads the 32 halfwords of an instruction from stdin. */
inline bool scanHalfwords(long (&h)[32]) {
  for (int k = 0; k < 32; k++)
    if (std::scanf("%ld", &h[k]) != 1) return false;
  return true;
}

inline int hexNibble(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

/** Calls f(i, byte) for each byte of a lowercase hex string. */
template <typename F>
inline void forHexBytes(const char* hex, F f) {
  for (size_t i = 0; hex[2 * i]; i++) f(i, static_cast<uint8_t>(hexNibble(hex[2 * i]) * 16 + hexNibble(hex[2 * i + 1])));
}

/**
 * Drives req_ready_i and the read data channel of `dut` from `port` for cycle `now` (ready and
 * valid dice in that order); a beat's byte i is byteAt(beat address + i). Returns data_valid_i.
 */
template <typename D, typename F>
inline bool driveReadPort(D& dut, ReadPort& port, Prng& rng, long now, long pReq, long pData, int B, F byteAt) {
  dut.req_ready_i = rng.chance(static_cast<int>(pReq));
  const bool dv = port.beatValid(now, rng.chance(static_cast<int>(pData)));
  dut.data_valid_i = dv;
  dut.data_last_i = dv && port.beatLast();
  if (dv) {
    const uint32_t a = port.beatAddr(static_cast<uint32_t>(B));
    for (int i = 0; i < B; i++) put(dut.data_i, 8 * i, 8, byteAt(a + static_cast<uint32_t>(i)));
  }
  return dv;
}

/** Request channel: once valid, address and length must hold until accepted. */
struct ReqHold {
  bool pend = false;
  uint32_t addr = 0, beats = 0;
  template <typename D>
  void check(const D& dut, Errors& err, long t, const char* what) {
    if (pend && (!dut.req_valid_o || dut.req_addr_o != addr || dut.req_beats_o != beats))
      err("error cycle %ld: %s withdrawn or changed before acceptance\n", t, what);
    pend = dut.req_valid_o && !dut.req_ready_i;
    addr = dut.req_addr_o;
    beats = dut.req_beats_o;
  }
};

/** An accepted read request: printed, queued on the port, at most 4 bursts outstanding. */
template <typename D>
inline void acceptRead(const D& dut, ReadPort& port, Errors& err, long t, long now, long latency) {
  std::printf("req %ld %u %u\n", t, dut.req_addr_o, dut.req_beats_o);
  port.accept(dut.req_addr_o, dut.req_beats_o, now, static_cast<int>(latency));
  if (port.bursts.size() > 4) err("error cycle %ld: %zu bursts outstanding\n", t, port.bursts.size());
}

/** Buffer write enables of gatec_dma_rd this cycle; more than one is an error. */
template <typename D>
inline int rowWriteEnables(const D& dut, Errors& err, long t) {
  const int wes = dut.in_we_o + dut.w_we_o + dut.p_we_o;
  if (wes > 1) err("error cycle %ld: %d buffer write enables at once\n", t, wes);
  return wes;
}

/** Prints gatec_dma_rd's row write: "row <cycle> <target> <row> <hex row bytes>". */
template <typename D>
inline void printRowWrite(const D& dut, long t, int rowAw, int Wa, int Ww, int Wp) {
  const int tgt = dut.w_we_o ? 1 : dut.p_we_o ? 2 : 0;
  std::printf("row %ld %d %llu %s\n", t, tgt, static_cast<unsigned long long>(get(dut.row_o, 0, rowAw)),
              hexBytes(dut.row_data_o, tgt == 1 ? Ww : tgt == 2 ? Wp : Wa).c_str());
}

/** gatec_dma_wr's write port: request and data beat hold checks, then the trace lines. */
struct WritePortMonitor {
  ReqHold req;
  bool dataPend = false;
  std::string pendData;
  int pendLast = 0;
  /** Checks this cycle's request and beat against the last; returns the beat's hex bytes. */
  template <typename D>
  std::string check(const D& dut, Errors& err, long t, int B) {
    req.check(dut, err, t, "write request");
    const std::string data = hexBytes(dut.data_o, B);
    if (dataPend && (!dut.data_valid_o || data != pendData || dut.data_last_o != pendLast))
      err("error cycle %ld: data beat withdrawn or changed before acceptance\n", t);
    dataPend = dut.data_valid_o && !dut.data_ready_i;
    pendData = data;
    pendLast = dut.data_last_o;
    return data;
  }
  /** "req" and "beat" lines for what was accepted this cycle. */
  template <typename D>
  static void print(const D& dut, long t, const std::string& data) {
    if (dut.req_valid_o && dut.req_ready_i) std::printf("req %ld %u %u\n", t, dut.req_addr_o, dut.req_beats_o);
    if (dut.data_valid_o && dut.data_ready_i) std::printf("beat %ld %d %s\n", t, dut.data_last_o ? 1 : 0, data.c_str());
  }
};

/** The out buffer's registered read port: data the cycle after re_o, held otherwise. */
struct BufReadPort {
  bool pend = false;
  long row = 0;
  /** Before the edge: rdata_i byte i is byteAt(row, i) once a row was read. */
  template <typename D, typename F>
  void drive(D& dut, int Wa, F byteAt) const {
    if (pend)
      for (int i = 0; i < Wa; i++) put(dut.rdata_i, 8 * i, 8, byteAt(row, i));
  }
  /** After the edge: re_o was `re` with address `raddr`. */
  void edge(bool re, long raddr) {
    if (re) {
      pend = true;
      row = raddr;
    }
  }
};

/** The write port's ready dice: request, then data. */
template <typename D>
inline void driveWriteReady(D& dut, Prng& rng, long pReq, long pData) {
  dut.req_ready_i = rng.chance(static_cast<int>(pReq));
  dut.data_ready_i = rng.chance(static_cast<int>(pData));
}

}  // namespace gatec_tb
