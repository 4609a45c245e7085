// Unit bench for the zero-block decoder of gatec_dma_rd (B, Wa, Ww, Wp, RowAddrWidth set with
// -G), also running dense LOADs in between: a DRAM read port model (in-order bursts, latency,
// random request-ready and data-valid stalls) whose bytes are dramByte(addr, seed) except where
// a "mem" command placed bytes (the bitmap rows of a band).
//
// stdin: "B Wa Ww Wp RowAddrWidth", then commands:
//   mem <addr> <hex bytes>          DRAM bytes from addr (kept until "clear")
//   clear                           drop every "mem" byte
//   load <gap> <seed> <latency> <req_ready_pct> <data_valid_pct> <h0> .. <h31>
//       after <gap> idle cycles, start_i with the instruction (32 halfwords); clock until busy_o
//       is low (that cycle is left for the next command, so gap 0 is back to back)
//   idle <n>                        n cycles without a start: nothing may happen
// It prints
//   req <cycle> <addr> <beats>                   each accepted request
//   row <cycle> <target> <row> <hex row bytes>   each buffer row write (bytes of the target width)
//   end <cycles> <errors>                        after each load and idle
// and "error ..." lines: a request withdrawn or changed before it was accepted, more than 4
// bursts outstanding, a row write to two buffers at once, busy_o low with data still due, busy_o,
// a request or a row write while no instruction runs, a timeout.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include "Vgatec_dma_rd.h"
#include "verilated.h"
#include "bits.h"
#include "dram.h"

using namespace gatec_tb;

namespace {

std::map<uint32_t, uint8_t> mem;

uint8_t dram(uint32_t a, uint32_t seed) {
  const auto it = mem.find(a);
  return it == mem.end() ? dramByte(a, seed) : it->second;
}

int hexNibble(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

}  // namespace

int main(int argc, char** argv) {
  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  auto dut = std::make_unique<Vgatec_dma_rd>(ctx.get());
  int B = 0, Wa = 0, Ww = 0, Wp = 0, rowAw = 0;
  if (std::scanf("%d %d %d %d %d", &B, &Wa, &Ww, &Wp, &rowAw) != 5) return 2;
  dut->clk_i = 0;
  dut->rst_ni = 0;
  dut->start_i = 0;
  dut->eval();
  dut->rst_ni = 1;
  dut->eval();
  long cycle = 0;
  char cmd[16];
  static char hex[1 << 20];
  Prng idleRng(7);
  while (std::scanf("%15s", cmd) == 1) {
    if (!std::strcmp(cmd, "mem")) {
      unsigned long addr;
      if (std::scanf("%lu %1048575s", &addr, hex) != 2) return 2;
      for (size_t i = 0; hex[2 * i]; i++)
        mem[static_cast<uint32_t>(addr + i)] = static_cast<uint8_t>(hexNibble(hex[2 * i]) * 16 + hexNibble(hex[2 * i + 1]));
      continue;
    }
    if (!std::strcmp(cmd, "clear")) {
      mem.clear();
      continue;
    }
    long gap = 0, seed = 0, latency = 1, pReq = 100, pData = 100;
    long h[32] = {0};
    bool isLoad = !std::strcmp(cmd, "load");
    if (isLoad) {
      if (std::scanf("%ld %ld %ld %ld %ld", &gap, &seed, &latency, &pReq, &pData) != 5) return 2;
      for (int k = 0; k < 32; k++)
        if (std::scanf("%ld", &h[k]) != 1) return 2;
    } else if (!std::strcmp(cmd, "idle")) {
      if (std::scanf("%ld", &gap) != 1) return 2;
    } else {
      return 2;
    }
    Prng rng(static_cast<uint64_t>(isLoad ? seed : idleRng.next()));
    ReadPort port;
    int errors = 0;
    bool pendValid = false;
    uint32_t pendAddr = 0, pendBeats = 0;
    const long t0 = cycle + gap;
    long t = 0;
    for (long c = 0;; c++) {
      const bool start = isLoad && c == gap;
      const bool idle = c < gap;
      if (!isLoad && c == gap) {
        t = cycle - t0;
        break;
      }
      dut->start_i = start;
      // the instruction is only valid with start_i (the engine's FIFO head moves on after the pop)
      for (int k = 0; k < 32; k++) put(dut->instr_i, 16 * k, 16, start ? static_cast<uint64_t>(h[k]) & 0xffff : rng.next() & 0xffff);
      dut->req_ready_i = rng.chance(static_cast<int>(pReq));
      const bool dv = port.beatValid(cycle, rng.chance(static_cast<int>(pData)));
      dut->data_valid_i = dv;
      dut->data_last_i = dv && port.beatLast();
      if (dv) {
        const uint32_t a = port.beatAddr(static_cast<uint32_t>(B));
        for (int i = 0; i < B; i++) put(dut->data_i, 8 * i, 8, dram(a + static_cast<uint32_t>(i), static_cast<uint32_t>(seed)));
      }
      dut->eval();
      t = cycle - t0;
      if (idle && dut->busy_o) {
        if (errors++ < 20) std::printf("error cycle %ld: busy_o high while no instruction runs\n", t);
      }
      // done: this cycle is left unclocked, so the next LOAD may start in it (gap 0)
      if (c > gap && !dut->busy_o) {
        if (!port.bursts.empty() || dut->req_valid_o) {
          if (errors++ < 20) std::printf("error cycle %ld: busy_o low with %zu bursts due\n", t, port.bursts.size());
        }
        break;
      }
      if (pendValid && (!dut->req_valid_o || dut->req_addr_o != pendAddr || dut->req_beats_o != pendBeats)) {
        if (errors++ < 20) std::printf("error cycle %ld: request withdrawn or changed before acceptance\n", t);
      }
      pendValid = dut->req_valid_o && !dut->req_ready_i;
      pendAddr = dut->req_addr_o;
      pendBeats = dut->req_beats_o;
      if (dut->req_valid_o && dut->req_ready_i) {
        if (idle) {
          if (errors++ < 20) std::printf("error cycle %ld: request while no instruction runs\n", t);
        }
        std::printf("req %ld %u %u\n", t, dut->req_addr_o, dut->req_beats_o);
        port.accept(dut->req_addr_o, dut->req_beats_o, cycle, static_cast<int>(latency));
        if (port.bursts.size() > 4) {
          if (errors++ < 20) std::printf("error cycle %ld: %zu bursts outstanding\n", t, port.bursts.size());
        }
      }
      const int wes = dut->in_we_o + dut->w_we_o + dut->p_we_o;
      if (wes > 1) {
        if (errors++ < 20) std::printf("error cycle %ld: %d buffer write enables at once\n", t, wes);
      }
      if (wes >= 1) {
        if (idle) {
          if (errors++ < 20) std::printf("error cycle %ld: row write while no instruction runs\n", t);
        }
        const int tgt = dut->w_we_o ? 1 : dut->p_we_o ? 2 : 0;
        std::printf("row %ld %d %llu %s\n", t, tgt, static_cast<unsigned long long>(get(dut->row_o, 0, rowAw)),
                    hexBytes(dut->row_data_o, tgt == 1 ? Ww : tgt == 2 ? Wp : Wa).c_str());
      }
      dut->clk_i = 1;
      dut->eval();
      dut->clk_i = 0;
      dut->eval();
      if (dv) port.sent(cycle);
      cycle++;
      if (c > gap + 200000) {
        if (errors++ < 20) std::printf("error: timeout\n");
        break;
      }
    }
    std::printf("end %ld %d\n", t, errors);
    std::fflush(stdout);
  }
  dut->final();
  return 0;
}
