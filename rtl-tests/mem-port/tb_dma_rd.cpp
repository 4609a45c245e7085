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
#include "bits.h"
#include "dram.h"

using namespace gatec_tb;

int main(int argc, char** argv) {
  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  auto dut = std::make_unique<Vgatec_dma_rd>(ctx.get());
  int B = 0, Wa = 0, Ww = 0, Wp = 0, rowAw = 0;
  if (std::scanf("%d %d %d %d %d", &B, &Wa, &Ww, &Wp, &rowAw) != 5) return 2;
  dut->clk_i = 0;
  dut->rst_ni = 0;
  dut->eval();
  dut->rst_ni = 1;
  dut->eval();
  long cycle = 0;
  char cmd[16];
  while (std::scanf("%15s", cmd) == 1) {
    if (std::strcmp(cmd, "load")) return 2;
    long gap, addr, bytes, target, row, seed, latency, pReq, pData;
    if (std::scanf("%ld %ld %ld %ld %ld %ld %ld %ld %ld", &gap, &addr, &bytes, &target, &row, &seed, &latency, &pReq,
                   &pData) != 9)
      return 2;
    Prng rng(static_cast<uint64_t>(seed));
    ReadPort port;
    int errors = 0;
    long reqBeats = 0;
    bool pendValid = false;
    uint32_t pendAddr = 0, pendBeats = 0;
    const long t0 = cycle + gap;
    long t = 0;
    for (long c = 0;; c++) {
      const bool start = (c == gap);
      dut->start_i = start;
      // the instruction is only valid with start_i (the engine's FIFO head moves on after the pop)
      {
        const long h[8] = {1, 7, addr & 0xffff, (addr >> 16) & 0xffff, bytes & 0xffff, (bytes >> 16) & 0xffff, target, row};
        for (int k = 0; k < 32; k++) put(dut->instr_i, 16 * k, 16, start ? (k < 8 ? static_cast<uint64_t>(h[k]) : 0) : rng.next() & 0xffff);
      }
      dut->req_ready_i = rng.chance(static_cast<int>(pReq));
      const bool dv = port.beatValid(cycle, rng.chance(static_cast<int>(pData)));
      dut->data_valid_i = dv;
      dut->data_last_i = dv && port.beatLast();
      if (dv) {
        const uint32_t a = port.beatAddr(static_cast<uint32_t>(B));
        for (int i = 0; i < B; i++) put(dut->data_i, 8 * i, 8, dramByte(a + i, static_cast<uint32_t>(seed)));
      }
      dut->eval();
      t = cycle - t0;
      // done: this cycle is left unclocked, so the next LOAD may start in it (gap 0)
      if (c > gap && !dut->busy_o) {
        if (!port.bursts.empty() || dut->req_valid_o) {
          if (errors++ < 20) std::printf("error cycle %ld: busy_o low with %zu bursts due\n", t, port.bursts.size());
        }
        break;
      }
      // request channel: once valid, hold address and length until accepted
      if (pendValid && (!dut->req_valid_o || dut->req_addr_o != pendAddr || dut->req_beats_o != pendBeats)) {
        if (errors++ < 20) std::printf("error cycle %ld: request withdrawn or changed before acceptance\n", t);
      }
      pendValid = dut->req_valid_o && !dut->req_ready_i;
      pendAddr = dut->req_addr_o;
      pendBeats = dut->req_beats_o;
      if (dut->req_valid_o && dut->req_ready_i) {
        std::printf("req %ld %u %u\n", t, dut->req_addr_o, dut->req_beats_o);
        port.accept(dut->req_addr_o, dut->req_beats_o, cycle, static_cast<int>(latency));
        reqBeats += dut->req_beats_o;
        if (port.bursts.size() > 4) {
          if (errors++ < 20) std::printf("error cycle %ld: %zu bursts outstanding\n", t, port.bursts.size());
        }
        if (reqBeats * B > bytes) {
          if (errors++ < 20) std::printf("error cycle %ld: requests beyond the byte count\n", t);
        }
      }
      const int wes = dut->in_we_o + dut->w_we_o + dut->p_we_o;
      if (wes > 1) {
        if (errors++ < 20) std::printf("error cycle %ld: %d buffer write enables at once\n", t, wes);
      }
      if (wes == 1) {
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
      if (c > gap + 100000) {
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
