// Unit bench for gatec_dma_wr (B, Wa, RowAddrWidth set with -G): an output-buffer model
// (registered read, data the cycle after re_o, held otherwise) and a DRAM write port with random
// request-ready and data-ready stalls.
//
// stdin: "B Wa RowAddrWidth", then one command per STORE:
//   store <gap> <addr> <bytes> <row> <seed> <req_ready_pct> <data_ready_pct>
// Output-buffer byte i of row r is dramByte(r * Wa + i, seed). After <gap> idle cycles the bench
// pulses start_i and clocks until busy_o is low (that cycle is left for the next command). It
// prints
//   req <cycle> <addr> <beats>            each accepted write request
//   beat <cycle> <last> <hex B bytes>     each accepted data beat
//   end <cycles> <errors>
// and "error ..." lines: a request or data beat withdrawn or changed before acceptance, a read
// of a row past the byte count, busy_o low with a request still presented.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include "Vgatec_dma_wr.h"
#include "verilated.h"
#include "dma.h"

using namespace gatec_tb;

int main(int argc, char** argv) {
  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  auto dut = std::make_unique<Vgatec_dma_wr>(ctx.get());
  int B = 0, Wa = 0, rowAw = 0;
  if (std::scanf("%d %d %d", &B, &Wa, &rowAw) != 3) return 2;
  reset(*dut);
  long cycle = 0;
  char cmd[16];
  while (std::scanf("%15s", cmd) == 1) {
    if (std::strcmp(cmd, "store")) return 2;
    long gap, addr, bytes, row, seed, pReq, pData;
    if (std::scanf("%ld %ld %ld %ld %ld %ld %ld", &gap, &addr, &bytes, &row, &seed, &pReq, &pData) != 7) return 2;
    const long h[32] = {2, 9, addr & 0xffff, (addr >> 16) & 0xffff, bytes & 0xffff, (bytes >> 16) & 0xffff, 0, row};
    Prng rng(static_cast<uint64_t>(seed));
    Errors err;
    WritePortMonitor mon;
    const long rows = bytes / Wa;
    const long t0 = cycle + gap;
    long t = 0;
    BufReadPort rd;  // the buffer's registered read port
    for (long c = 0;; c++) {
      const bool start = (c == gap);
      dut->start_i = start;
      driveInstr(dut->instr_i, start, h, rng);
      rd.drive(*dut, Wa, [&](long r, int i) { return dramByte(static_cast<uint32_t>(r * Wa + i), static_cast<uint32_t>(seed)); });
      driveWriteReady(*dut, rng, pReq, pData);
      dut->eval();
      t = cycle - t0;
      if (c > gap && !dut->busy_o) {
        if (dut->req_valid_o || dut->data_valid_o) err("error cycle %ld: busy_o low with a request or beat presented\n", t);
        break;
      }
      WritePortMonitor::print(*dut, t, mon.check(*dut, err, t, B));
      const bool re = dut->re_o;
      const long raddr = static_cast<long>(get(dut->raddr_o, 0, rowAw));
      if (re && !start && (raddr < row || raddr >= row + rows))
        err("error cycle %ld: read of row %ld outside [%ld, %ld)\n", t, raddr, row, row + rows);
      tick(*dut);
      rd.edge(re, raddr);
      cycle++;
      if (timedOut(c, gap + 100000, err)) break;
    }
    endCommand(t, err);
  }
  dut->final();
  return 0;
}
