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
#include "dma.h"

using namespace gatec_tb;

namespace {

std::map<uint32_t, uint8_t> mem;

uint8_t dram(uint32_t a, uint32_t seed) {
  const auto it = mem.find(a);
  return it == mem.end() ? dramByte(a, seed) : it->second;
}

}  // namespace

int main(int argc, char** argv) {
  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  auto dut = std::make_unique<Vgatec_dma_rd>(ctx.get());
  int B = 0, Wa = 0, Ww = 0, Wp = 0, rowAw = 0;
  if (std::scanf("%d %d %d %d %d", &B, &Wa, &Ww, &Wp, &rowAw) != 5) return 2;
  dut->start_i = 0;
  reset(*dut);
  long cycle = 0;
  char cmd[16];
  static char hex[1 << 20];
  Prng idleRng(7);
  while (std::scanf("%15s", cmd) == 1) {
    if (!std::strcmp(cmd, "mem")) {
      unsigned long addr;
      if (std::scanf("%lu %1048575s", &addr, hex) != 2) return 2;
      forHexBytes(hex, [&](size_t i, uint8_t v) { mem[static_cast<uint32_t>(addr + i)] = v; });
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
      if (std::scanf("%ld %ld %ld %ld %ld", &gap, &seed, &latency, &pReq, &pData) != 5 || !scanHalfwords(h)) return 2;
    } else if (!std::strcmp(cmd, "idle")) {
      if (std::scanf("%ld", &gap) != 1) return 2;
    } else {
      return 2;
    }
    Prng rng(static_cast<uint64_t>(isLoad ? seed : idleRng.next()));
    ReadPort port;
    Errors err;
    ReqHold hold;
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
      driveInstr(dut->instr_i, start, h, rng);
      const bool dv = driveReadPort(*dut, port, rng, cycle, pReq, pData, B,
                                    [&](uint32_t a) { return dram(a, static_cast<uint32_t>(seed)); });
      dut->eval();
      t = cycle - t0;
      if (idle && dut->busy_o) err("error cycle %ld: busy_o high while no instruction runs\n", t);
      // done: this cycle is left unclocked, so the next LOAD may start in it (gap 0)
      if (c > gap && !dut->busy_o) {
        if (!port.bursts.empty() || dut->req_valid_o) err("error cycle %ld: busy_o low with %zu bursts due\n", t, port.bursts.size());
        break;
      }
      hold.check(*dut, err, t, "request");
      if (dut->req_valid_o && dut->req_ready_i) {
        if (idle) err("error cycle %ld: request while no instruction runs\n", t);
        acceptRead(*dut, port, err, t, cycle, latency);
      }
      if (rowWriteEnables(*dut, err, t) >= 1) {
        if (idle) err("error cycle %ld: row write while no instruction runs\n", t);
        printRowWrite(*dut, t, rowAw, Wa, Ww, Wp);
      }
      tick(*dut);
      if (dv) port.sent(cycle);
      cycle++;
      if (timedOut(c, gap + 200000, err)) break;
    }
    endCommand(t, err);
  }
  dut->final();
  return 0;
}
