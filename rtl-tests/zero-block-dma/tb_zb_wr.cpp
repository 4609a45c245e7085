// Unit bench for the zero-block encoder of gatec_dma_wr (B, Wa, L, RowAddrWidth set with -G),
// also running dense STOREs in between: an output-buffer model (registered read, data the cycle
// after re_o, held otherwise) whose rows the script sets, and a DRAM write port with random
// request-ready and data-ready stalls.
//
// stdin: "B Wa RowAddrWidth", then commands:
//   buf <row> <hex bytes>      out-buffer rows from <row> (whole rows of Wa bytes; other rows
//                              keep what they held, initially dramByte(row * Wa + i, 99))
//   store <gap> <seed> <req_ready_pct> <data_ready_pct> <row_lo> <row_hi> <h0> .. <h31>
//       after <gap> idle cycles, start_i with the instruction; clock until busy_o is low (that
//       cycle is left for the next command); reads must stay in rows [row_lo, row_hi)
//   idle <n>                   n cycles without a start: nothing may happen
// It prints
//   req <cycle> <addr> <beats>            each accepted write request
//   beat <cycle> <last> <hex B bytes>     each accepted data beat
//   end <cycles> <errors>                 after each store and idle
// and "error ..." lines: a request or data beat withdrawn or changed before acceptance, a read
// outside [row_lo, row_hi), busy_o low with a request or beat presented, busy_o, a request, a
// beat or a read while no instruction runs, a timeout.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>
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
  const long nRows = 1L << rowAw;
  std::vector<uint8_t> buf(static_cast<size_t>(nRows * Wa));
  for (size_t i = 0; i < buf.size(); i++) buf[i] = dramByte(static_cast<uint32_t>(i), 99);
  dut->start_i = 0;
  reset(*dut);
  long cycle = 0;
  char cmd[16];
  static char hex[1 << 21];
  Prng idleRng(11);
  BufReadPort rd;  // the buffer's registered read port
  while (std::scanf("%15s", cmd) == 1) {
    if (!std::strcmp(cmd, "buf")) {
      long row;
      if (std::scanf("%ld %2097151s", &row, hex) != 2) return 2;
      forHexBytes(hex, [&](size_t i, uint8_t v) {
        const size_t at = static_cast<size_t>(row * Wa) + i;
        if (at < buf.size()) buf[at] = v;
      });
      continue;
    }
    long gap = 0, seed = 0, pReq = 100, pData = 100, rlo = 0, rhi = 0;
    long h[32] = {0};
    const bool isStore = !std::strcmp(cmd, "store");
    if (isStore) {
      if (std::scanf("%ld %ld %ld %ld %ld %ld", &gap, &seed, &pReq, &pData, &rlo, &rhi) != 6 || !scanHalfwords(h)) return 2;
    } else if (!std::strcmp(cmd, "idle")) {
      if (std::scanf("%ld", &gap) != 1) return 2;
    } else {
      return 2;
    }
    Prng rng(static_cast<uint64_t>(isStore ? seed : idleRng.next()));
    Errors err;
    WritePortMonitor mon;
    const long t0 = cycle + gap;
    long t = 0;
    for (long c = 0;; c++) {
      if (!isStore && c == gap) break;
      const bool start = isStore && c == gap;
      const bool idle = c < gap;
      dut->start_i = start;
      driveInstr(dut->instr_i, start, h, rng);
      rd.drive(*dut, Wa, [&](long r, int i) { return buf[static_cast<size_t>((r % nRows) * Wa + i)]; });
      driveWriteReady(*dut, rng, pReq, pData);
      dut->eval();
      t = cycle - t0;
      if (idle && dut->busy_o) err("error cycle %ld: busy_o high while no instruction runs\n", t);
      if (c > gap && !dut->busy_o) {
        if (dut->req_valid_o || dut->data_valid_o) err("error cycle %ld: busy_o low with a request or beat presented\n", t);
        break;
      }
      const std::string data = mon.check(*dut, err, t, B);
      if (idle && ((dut->req_valid_o && dut->req_ready_i) || (dut->data_valid_o && dut->data_ready_i)))
        err("error cycle %ld: request or beat while no instruction runs\n", t);
      WritePortMonitor::print(*dut, t, data);
      const bool re = dut->re_o;
      const long raddr = static_cast<long>(get(dut->raddr_o, 0, rowAw));
      if (re && (idle || (!start && (raddr < rlo || raddr >= rhi))))
        err("error cycle %ld: read of row %ld outside [%ld, %ld)%s\n", t, raddr, rlo, rhi, idle ? " while idle" : "");
      tick(*dut);
      rd.edge(re, raddr);
      cycle++;
      if (timedOut(c, gap + 400000, err)) break;
    }
    endCommand(t, err);
  }
  dut->final();
  return 0;
}
