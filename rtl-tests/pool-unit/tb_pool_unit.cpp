// Unit bench for gatec_pool_unit (L, InAddrWidth, OutAddrWidth set with -G). It models the
// input buffer as 2^InAddrWidth words of L bytes with a registered read (data the cycle after
// in_re_o, held otherwise, as the engine's in-buffer word select does) and the output writer's
// busy: wr_busy_i is high in the cycle of res_valid_o, the cycle after, and `tail` more cycles.
//
// stdin, first line "L InAddrWidth OutAddrWidth", then commands:
//   fill <seed>                      every word of the buffer gets pseudo-random bytes
//   mem <word> <hex>                 bytes from word <word> on (hex, byte 0 first)
//   run <gap> <tail> <h0> .. <h31>   wait <gap> idle cycles, pulse start_i with the instruction,
//                                    clock until busy_o falls (at most 1e6 cycles)
// For every run it prints one line per result:
//   res <cycle> <addr> <mult> <shift> <zp_out> <lo> <hi> <acc_0> .. <acc_{L-1}>
// and then "end <busy cycles> <reads> <errors>" with the number of cycles busy_o was high,
// the number of in_re_o cycles, and protocol errors (listed on "error" lines before it).
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>
#include "Vgatec_pool_unit.h"
#include "verilated.h"
#include "bits.h"
#include "dram.h"

using gatec_tb::get;
using gatec_tb::put;

int main(int argc, char** argv) {
  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  auto dut = std::make_unique<Vgatec_pool_unit>(ctx.get());
  int L = 0, inAw = 0, outAw = 0;
  if (std::scanf("%d %d %d", &L, &inAw, &outAw) != 3) return 2;
  const size_t words = size_t(1) << inAw;
  std::vector<uint8_t> mem(words * L, 0);
  std::vector<uint8_t> rword(L, 0);  // registered read data

  auto edge = [&] {
    dut->clk_i = 1;
    dut->eval();
    dut->clk_i = 0;
    dut->eval();
  };
  dut->clk_i = 0;
  dut->rst_ni = 0;
  dut->start_i = 0;
  dut->wr_busy_i = 0;
  dut->eval();
  dut->rst_ni = 1;
  dut->eval();

  long cycle = 0;
  gatec_tb::Prng junk(99);
  int prevRes = 0, tailLeft = 0, lastWrBusy = 0;
  // One clock cycle with the given start; returns after the rising edge.
  auto step = [&](bool start, int tail, const std::vector<long>& h, long& reads, int& errors, long t0) {
    const bool resNow = dut->res_valid_o;
    if (resNow) tailLeft = tail;
    dut->wr_busy_i = resNow || prevRes || (tailLeft > 0);
    lastWrBusy = dut->wr_busy_i;
    if (!resNow && !prevRes && tailLeft > 0) tailLeft--;
    dut->start_i = start;
    // the instruction is only valid with start_i (the engine's FIFO head moves on after the pop)
    for (int k = 0; k < 32; k++) put(dut->instr_i, 16 * k, 16, start ? static_cast<uint64_t>(h[k]) : junk.next() & 0xffff);
    for (int c = 0; c < L; c++) put(dut->in_word_i, 8 * c, 8, rword[c]);
    dut->eval();
    if (dut->res_valid_o) {
      std::printf("res %ld %llu %llu %llu %d %d %d", cycle - t0,
                  static_cast<unsigned long long>(get(dut->res_addr_o, 0, outAw)),
                  static_cast<unsigned long long>(get(dut->res_mult_o, 0, 15)),
                  static_cast<unsigned long long>(get(dut->res_shift_o, 0, 6)),
                  static_cast<int>(static_cast<int8_t>(dut->zp_out_o)), static_cast<int>(static_cast<int8_t>(dut->lo_o)),
                  static_cast<int>(static_cast<int8_t>(dut->hi_o)));
      for (int c = 0; c < L; c++) std::printf(" %d", static_cast<int32_t>(get(dut->res_acc_o, 32 * c, 32)));
      std::printf("\n");
    }
    const bool re = dut->in_re_o;
    const size_t addr = static_cast<size_t>(get(dut->in_addr_o, 0, inAw));
    if (re) reads++;
    if (start && dut->busy_o) {
      if (errors++ < 20) std::printf("error cycle %ld: start_i while busy_o\n", cycle - t0);
    }
    prevRes = resNow;
    edge();
    if (re) std::memcpy(rword.data(), &mem[addr * L], L);
    cycle++;
  };

  char cmd[16];
  while (std::scanf("%15s", cmd) == 1) {
    if (!std::strcmp(cmd, "fill")) {
      unsigned long long s = 0;
      if (std::scanf("%llu", &s) != 1) return 2;
      uint64_t x = s * 0x9e3779b97f4a7c15ull + 1;
      for (auto& b : mem) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        b = static_cast<uint8_t>(x >> 56);
      }
    } else if (!std::strcmp(cmd, "mem")) {
      unsigned long w = 0;
      static char hex[1 << 20];
      if (std::scanf("%lu %1048575s", &w, hex) != 2) return 2;
      const size_t n = std::strlen(hex) / 2;
      for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        std::sscanf(hex + 2 * i, "%2x", &v);
        mem[(w * L + i) % mem.size()] = static_cast<uint8_t>(v);
      }
    } else if (!std::strcmp(cmd, "run")) {
      int gap = 0, tail = 0;
      std::vector<long> h(32, 0);
      if (std::scanf("%d %d", &gap, &tail) != 2) return 2;
      for (auto& v : h) if (std::scanf("%ld", &v) != 1) return 2;
      long reads = 0, dummy = 0;
      int errors = 0;
      for (int g = 0; g < gap; g++) step(false, tail, h, dummy, errors, cycle);
      const long t0 = cycle;
      step(true, tail, h, reads, errors, t0);
      long busy = 0;
      while (dut->busy_o && busy < 1000000) {
        busy++;
        step(false, tail, h, reads, errors, t0);
      }
      // the unit may only go idle once the writer is idle and every result is out
      if (lastWrBusy || dut->res_valid_o) {
        if (errors++ < 20) std::printf("error: busy_o fell while the writer was busy\n");
      }
      std::printf("end %ld %ld %d\n", busy, reads, errors);
      std::fflush(stdout);
    } else {
      return 2;
    }
  }
  dut->final();
  return 0;
}
