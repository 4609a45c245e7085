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
#include "bits.h"
#include "dram.h"

using namespace gatec_tb;

namespace {
int hexNibble(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }
}  // namespace

int main(int argc, char** argv) {
  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  auto dut = std::make_unique<Vgatec_dma_wr>(ctx.get());
  int B = 0, Wa = 0, rowAw = 0;
  if (std::scanf("%d %d %d", &B, &Wa, &rowAw) != 3) return 2;
  const long nRows = 1L << rowAw;
  std::vector<uint8_t> buf(static_cast<size_t>(nRows * Wa));
  for (size_t i = 0; i < buf.size(); i++) buf[i] = dramByte(static_cast<uint32_t>(i), 99);
  dut->clk_i = 0;
  dut->rst_ni = 0;
  dut->start_i = 0;
  dut->eval();
  dut->rst_ni = 1;
  dut->eval();
  long cycle = 0;
  char cmd[16];
  static char hex[1 << 21];
  Prng idleRng(11);
  bool readPend = false;
  long readRow = 0;
  while (std::scanf("%15s", cmd) == 1) {
    if (!std::strcmp(cmd, "buf")) {
      long row;
      if (std::scanf("%ld %2097151s", &row, hex) != 2) return 2;
      for (size_t i = 0; hex[2 * i]; i++) {
        const size_t at = static_cast<size_t>(row * Wa) + i;
        if (at < buf.size()) buf[at] = static_cast<uint8_t>(hexNibble(hex[2 * i]) * 16 + hexNibble(hex[2 * i + 1]));
      }
      continue;
    }
    long gap = 0, seed = 0, pReq = 100, pData = 100, rlo = 0, rhi = 0;
    long h[32] = {0};
    const bool isStore = !std::strcmp(cmd, "store");
    if (isStore) {
      if (std::scanf("%ld %ld %ld %ld %ld %ld", &gap, &seed, &pReq, &pData, &rlo, &rhi) != 6) return 2;
      for (int k = 0; k < 32; k++)
        if (std::scanf("%ld", &h[k]) != 1) return 2;
    } else if (!std::strcmp(cmd, "idle")) {
      if (std::scanf("%ld", &gap) != 1) return 2;
    } else {
      return 2;
    }
    Prng rng(static_cast<uint64_t>(isStore ? seed : idleRng.next()));
    int errors = 0;
    bool reqPend = false, dataPend = false;
    uint32_t pendAddr = 0, pendBeats = 0;
    std::string pendData;
    int pendLast = 0;
    const long t0 = cycle + gap;
    long t = 0;
    for (long c = 0;; c++) {
      if (!isStore && c == gap) break;
      const bool start = isStore && c == gap;
      const bool idle = c < gap;
      dut->start_i = start;
      for (int k = 0; k < 32; k++) put(dut->instr_i, 16 * k, 16, start ? static_cast<uint64_t>(h[k]) & 0xffff : rng.next() & 0xffff);
      // the buffer's registered read port
      if (readPend) {
        for (int i = 0; i < Wa; i++) put(dut->rdata_i, 8 * i, 8, buf[static_cast<size_t>((readRow % nRows) * Wa + i)]);
      }
      dut->req_ready_i = rng.chance(static_cast<int>(pReq));
      dut->data_ready_i = rng.chance(static_cast<int>(pData));
      dut->eval();
      t = cycle - t0;
      if (idle && dut->busy_o) {
        if (errors++ < 20) std::printf("error cycle %ld: busy_o high while no instruction runs\n", t);
      }
      if (c > gap && !dut->busy_o) {
        if (dut->req_valid_o || dut->data_valid_o) {
          if (errors++ < 20) std::printf("error cycle %ld: busy_o low with a request or beat presented\n", t);
        }
        break;
      }
      if (reqPend && (!dut->req_valid_o || dut->req_addr_o != pendAddr || dut->req_beats_o != pendBeats)) {
        if (errors++ < 20) std::printf("error cycle %ld: write request withdrawn or changed before acceptance\n", t);
      }
      const std::string data = hexBytes(dut->data_o, B);
      if (dataPend && (!dut->data_valid_o || data != pendData || dut->data_last_o != pendLast)) {
        if (errors++ < 20) std::printf("error cycle %ld: data beat withdrawn or changed before acceptance\n", t);
      }
      reqPend = dut->req_valid_o && !dut->req_ready_i;
      pendAddr = dut->req_addr_o;
      pendBeats = dut->req_beats_o;
      dataPend = dut->data_valid_o && !dut->data_ready_i;
      pendData = data;
      pendLast = dut->data_last_o;
      if (idle && ((dut->req_valid_o && dut->req_ready_i) || (dut->data_valid_o && dut->data_ready_i))) {
        if (errors++ < 20) std::printf("error cycle %ld: request or beat while no instruction runs\n", t);
      }
      if (dut->req_valid_o && dut->req_ready_i) std::printf("req %ld %u %u\n", t, dut->req_addr_o, dut->req_beats_o);
      if (dut->data_valid_o && dut->data_ready_i) std::printf("beat %ld %d %s\n", t, dut->data_last_o ? 1 : 0, data.c_str());
      const bool re = dut->re_o;
      const long raddr = static_cast<long>(get(dut->raddr_o, 0, rowAw));
      if (re && (idle || (!start && (raddr < rlo || raddr >= rhi)))) {
        if (errors++ < 20)
          std::printf("error cycle %ld: read of row %ld outside [%ld, %ld)%s\n", t, raddr, rlo, rhi, idle ? " while idle" : "");
      }
      dut->clk_i = 1;
      dut->eval();
      dut->clk_i = 0;
      dut->eval();
      if (re) {
        readPend = true;
        readRow = raddr;
      }
      cycle++;
      if (c > gap + 400000) {
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
