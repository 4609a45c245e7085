// Unit bench for gatec_fetch (B, FetchDepth set with -G) with the DRAM read port model and a
// consumer that pops on random cycles.
//
// stdin: "B FetchDepth", then one command per program:
//   prog <gap> <addr> <count> <seed> <latency> <req_ready_pct> <data_valid_pct> <pop_pct>
// (DRAM byte a is dramByte(a, seed)). After <gap> idle cycles the bench pulses start_i with
// prog_addr_i/prog_len_i and clocks until <count> instructions were popped and 20 more cycles
// passed. It prints
//   req <cycle> <addr> <beats>     each accepted request
//   instr <cycle> <hex 64 bytes>   each popped instruction
//   end <cycles> <errors>
// and "error ..." lines: a request withdrawn or changed before acceptance, a second burst
// requested while one is outstanding, more instructions in flight or queued than FetchDepth,
// requests or instructions beyond the program, instr_valid_o low with instructions queued.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include "Vgatec_fetch.h"
#include "verilated.h"
#include "bits.h"
#include "dram.h"

using namespace gatec_tb;

int main(int argc, char** argv) {
  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  auto dut = std::make_unique<Vgatec_fetch>(ctx.get());
  int B = 0, depth = 0;
  if (std::scanf("%d %d", &B, &depth) != 2) return 2;
  const long beatsPerInstr = B >= 64 ? 1 : 64 / B;
  dut->clk_i = 0;
  dut->rst_ni = 0;
  dut->eval();
  dut->rst_ni = 1;
  dut->eval();
  long cycle = 0;
  char cmd[16];
  while (std::scanf("%15s", cmd) == 1) {
    if (std::strcmp(cmd, "prog")) return 2;
    long gap, addr, count, seed, latency, pReq, pData, pPop;
    if (std::scanf("%ld %ld %ld %ld %ld %ld %ld %ld", &gap, &addr, &count, &seed, &latency, &pReq, &pData, &pPop) != 8)
      return 2;
    Prng rng(static_cast<uint64_t>(seed));
    ReadPort port;
    int errors = 0;
    bool pendValid = false;
    uint32_t pendAddr = 0, pendBeats = 0;
    long beatsIn = 0, popped = 0, requested = 0, doneAt = -1;
    const long t0 = cycle + gap;
    long t = 0;
    for (long c = 0;; c++) {
      const bool start = (c == gap);
      dut->start_i = start;
      dut->prog_addr_i = static_cast<uint32_t>(addr);
      dut->prog_len_i = static_cast<uint32_t>(count);
      dut->req_ready_i = rng.chance(static_cast<int>(pReq));
      const bool dv = port.beatValid(cycle, rng.chance(static_cast<int>(pData)));
      dut->data_valid_i = dv;
      dut->data_last_i = dv && port.beatLast();
      if (dv) {
        const uint32_t a = port.beatAddr(static_cast<uint32_t>(B));
        for (int i = 0; i < B; i++) put(dut->data_i, 8 * i, 8, dramByte(a + i, static_cast<uint32_t>(seed)));
      }
      dut->pop_i = 0;
      dut->eval();
      const bool pop = c > gap && dut->instr_valid_o && rng.chance(static_cast<int>(pPop));
      dut->pop_i = pop;
      dut->eval();
      t = cycle - t0;
      if (c > gap) {
        if (pendValid && (!dut->req_valid_o || dut->req_addr_o != pendAddr || dut->req_beats_o != pendBeats)) {
          if (errors++ < 20) std::printf("error cycle %ld: request withdrawn or changed before acceptance\n", t);
        }
        pendValid = dut->req_valid_o && !dut->req_ready_i;
        pendAddr = dut->req_addr_o;
        pendBeats = dut->req_beats_o;
        if (dut->req_valid_o && dut->req_ready_i) {
          std::printf("req %ld %u %u\n", t, dut->req_addr_o, dut->req_beats_o);
          if (!port.bursts.empty()) {
            if (errors++ < 20) std::printf("error cycle %ld: a second burst while one is outstanding\n", t);
          }
          port.accept(dut->req_addr_o, dut->req_beats_o, cycle, static_cast<int>(latency));
          requested += dut->req_beats_o;
          // every requested instruction must fit: queued + in flight <= FetchDepth
          const long inflight = (requested - beatsIn) / beatsPerInstr;
          const long queued = beatsIn / beatsPerInstr - popped;
          if (queued + inflight > depth) {
            if (errors++ < 20) std::printf("error cycle %ld: %ld queued + %ld requested > FetchDepth\n", t, queued, inflight);
          }
          if (requested > count * beatsPerInstr) {
            if (errors++ < 20) std::printf("error cycle %ld: requests beyond the program\n", t);
          }
        }
        const long queued = beatsIn / beatsPerInstr - popped;
        if ((queued > 0) != static_cast<bool>(dut->instr_valid_o)) {
          if (errors++ < 20) std::printf("error cycle %ld: instr_valid_o=%d with %ld instructions queued\n", t, dut->instr_valid_o, queued);
        }
        if (pop) {
          std::printf("instr %ld %s\n", t, hexBytes(dut->instr_o, 64).c_str());
          if (++popped == count) doneAt = c;
        }
      }
      dut->clk_i = 1;
      dut->eval();
      dut->clk_i = 0;
      dut->eval();
      if (dv) {
        port.sent(cycle);
        beatsIn++;
      }
      cycle++;
      if (c > gap && (count == 0 || popped == count) && doneAt < 0) doneAt = c;
      if (doneAt >= 0 && c >= doneAt + 20) break;
      if (c > gap + 100000) {
        if (errors++ < 20) std::printf("error: timeout\n");
        break;
      }
    }
    if (!port.bursts.empty() || dut->instr_valid_o) {
      if (errors++ < 20) std::printf("error: data or instructions left over after the program\n");
    }
    std::printf("end %ld %d\n", t, errors);
    std::fflush(stdout);
  }
  dut->final();
  return 0;
}
