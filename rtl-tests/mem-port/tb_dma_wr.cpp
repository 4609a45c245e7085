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
#include "bits.h"
#include "dram.h"

using namespace gatec_tb;

int main(int argc, char** argv) {
  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  auto dut = std::make_unique<Vgatec_dma_wr>(ctx.get());
  int B = 0, Wa = 0, rowAw = 0;
  if (std::scanf("%d %d %d", &B, &Wa, &rowAw) != 3) return 2;
  dut->clk_i = 0;
  dut->rst_ni = 0;
  dut->eval();
  dut->rst_ni = 1;
  dut->eval();
  long cycle = 0;
  char cmd[16];
  while (std::scanf("%15s", cmd) == 1) {
    if (std::strcmp(cmd, "store")) return 2;
    long gap, addr, bytes, row, seed, pReq, pData;
    if (std::scanf("%ld %ld %ld %ld %ld %ld %ld", &gap, &addr, &bytes, &row, &seed, &pReq, &pData) != 7) return 2;
    Prng rng(static_cast<uint64_t>(seed));
    int errors = 0;
    bool reqPend = false, dataPend = false;
    uint32_t pendAddr = 0, pendBeats = 0;
    std::string pendData;
    int pendLast = 0;
    const long rows = bytes / Wa;
    const long t0 = cycle + gap;
    long t = 0;
    bool readPend = false;
    long readRow = 0;
    for (long c = 0;; c++) {
      const bool start = (c == gap);
      dut->start_i = start;
      // the instruction is only valid with start_i (the engine's FIFO head moves on after the pop)
      {
        const long h[8] = {2, 9, addr & 0xffff, (addr >> 16) & 0xffff, bytes & 0xffff, (bytes >> 16) & 0xffff, 0, row};
        for (int k = 0; k < 32; k++) put(dut->instr_i, 16 * k, 16, start ? (k < 8 ? static_cast<uint64_t>(h[k]) : 0) : rng.next() & 0xffff);
      }
      // the buffer's registered read port
      if (readPend) {
        for (int i = 0; i < Wa; i++)
          put(dut->rdata_i, 8 * i, 8, dramByte(static_cast<uint32_t>(readRow * Wa + i), static_cast<uint32_t>(seed)));
      }
      dut->req_ready_i = rng.chance(static_cast<int>(pReq));
      dut->data_ready_i = rng.chance(static_cast<int>(pData));
      dut->eval();
      t = cycle - t0;
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
      if (dut->req_valid_o && dut->req_ready_i) std::printf("req %ld %u %u\n", t, dut->req_addr_o, dut->req_beats_o);
      if (dut->data_valid_o && dut->data_ready_i) std::printf("beat %ld %d %s\n", t, dut->data_last_o ? 1 : 0, data.c_str());
      const bool re = dut->re_o;
      const long raddr = static_cast<long>(get(dut->raddr_o, 0, rowAw));
      if (re && !start && (raddr < row || raddr >= row + rows)) {
        if (errors++ < 20) std::printf("error cycle %ld: read of row %ld outside [%ld, %ld)\n", t, raddr, row, row + rows);
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
