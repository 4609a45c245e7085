// Unit bench for gatec_dma_rd (B, Wa, Ww, Wp, RowAddrWidth set with -G) with a DRAM read port
// model: in-order bursts, latency, random request-ready and data-valid stalls.
//
// stdin: "B Wa Ww Wp RowAddrWidth", then one command per LOAD:
//   load <gap> <addr> <bytes> <target> <row> <seed> <latency> <req_ready_pct> <data_valid_pct>
// (DRAM byte a is dramByte(a, seed)). After <gap> idle cycles the bench pulses start_i with the
// instruction and clocks until busy_o is low (that cycle is left for the next command, so gap 0 is back to back);
// busy_o low while a burst is outstanding is an error. It prints
//   req <cycle> <addr> <beats>                   each accepted request
//   row <cycle> <target> <row> <hex row bytes>   each buffer row write (bytes of the target width)
//   end <cycles> <errors>
// and "error ..." lines for protocol violations: a request withdrawn or changed before it was
// accepted, more than 4 bursts outstanding, a row write to two buffers at once, requests beyond
// the byte count, busy_o low with data still due.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include "Vgatec_dma_rd.h"
#include "verilated.h"
#include "dma.h"

using namespace gatec_tb;

int main(int argc, char** argv) {
  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  auto dut = std::make_unique<Vgatec_dma_rd>(ctx.get());
  int B = 0, Wa = 0, Ww = 0, Wp = 0, rowAw = 0;
  if (std::scanf("%d %d %d %d %d", &B, &Wa, &Ww, &Wp, &rowAw) != 5) return 2;
  reset(*dut);
  long cycle = 0;
  char cmd[16];
  while (std::scanf("%15s", cmd) == 1) {
    if (std::strcmp(cmd, "load")) return 2;
    long gap, addr, bytes, target, row, seed, latency, pReq, pData;
    if (std::scanf("%ld %ld %ld %ld %ld %ld %ld %ld %ld", &gap, &addr, &bytes, &target, &row, &seed, &latency, &pReq,
                   &pData) != 9)
      return 2;
    const long h[32] = {1, 7, addr & 0xffff, (addr >> 16) & 0xffff, bytes & 0xffff, (bytes >> 16) & 0xffff, target, row};
    Prng rng(static_cast<uint64_t>(seed));
    ReadPort port;
    Errors err;
    ReqHold hold;
    long reqBeats = 0;
    const long t0 = cycle + gap;
    long t = 0;
    for (long c = 0;; c++) {
      const bool start = (c == gap);
      dut->start_i = start;
      driveInstr(dut->instr_i, start, h, rng);
      const bool dv = driveReadPort(*dut, port, rng, cycle, pReq, pData, B,
                                    [&](uint32_t a) { return dramByte(a, static_cast<uint32_t>(seed)); });
      dut->eval();
      t = cycle - t0;
      // done: this cycle is left unclocked, so the next LOAD may start in it (gap 0)
      if (c > gap && !dut->busy_o) {
        if (!port.bursts.empty() || dut->req_valid_o) err("error cycle %ld: busy_o low with %zu bursts due\n", t, port.bursts.size());
        break;
      }
      hold.check(*dut, err, t, "request");
      if (dut->req_valid_o && dut->req_ready_i) {
        acceptRead(*dut, port, err, t, cycle, latency);
        reqBeats += dut->req_beats_o;
        if (reqBeats * B > bytes) err("error cycle %ld: requests beyond the byte count\n", t);
      }
      if (rowWriteEnables(*dut, err, t) == 1) printRowWrite(*dut, t, rowAw, Wa, Ww, Wp);
      tick(*dut);
      if (dv) port.sent(cycle);
      cycle++;
      if (timedOut(c, gap + 100000, err)) break;
    }
    endCommand(t, err);
  }
  dut->final();
  return 0;
}
