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
#include "dma.h"

using namespace gatec_tb;

int main(int argc, char** argv) {
  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  auto dut = std::make_unique<Vgatec_fetch>(ctx.get());
  int B = 0, depth = 0;
  if (std::scanf("%d %d", &B, &depth) != 2) return 2;
  const long beatsPerInstr = B >= 64 ? 1 : 64 / B;
  reset(*dut);
  long cycle = 0;
  char cmd[16];
  while (std::scanf("%15s", cmd) == 1) {
    if (std::strcmp(cmd, "prog")) return 2;
    long gap, addr, count, seed, latency, pReq, pData, pPop;
    if (std::scanf("%ld %ld %ld %ld %ld %ld %ld %ld", &gap, &addr, &count, &seed, &latency, &pReq, &pData, &pPop) != 8)
      return 2;
    Prng rng(static_cast<uint64_t>(seed));
    ReadPort port;
    Errors err;
    ReqHold hold;
    long beatsIn = 0, popped = 0, requested = 0, doneAt = -1;
    const long t0 = cycle + gap;
    long t = 0;
    for (long c = 0;; c++) {
      const bool start = (c == gap);
      dut->start_i = start;
      dut->prog_addr_i = static_cast<uint32_t>(addr);
      dut->prog_len_i = static_cast<uint32_t>(count);
      const bool dv = driveReadPort(*dut, port, rng, cycle, pReq, pData, B,
                                    [&](uint32_t a) { return dramByte(a, static_cast<uint32_t>(seed)); });
      dut->pop_i = 0;
      dut->eval();
      const bool pop = c > gap && dut->instr_valid_o && rng.chance(static_cast<int>(pPop));
      dut->pop_i = pop;
      dut->eval();
      t = cycle - t0;
      if (c > gap) {
        hold.check(*dut, err, t, "request");
        if (dut->req_valid_o && dut->req_ready_i) {
          std::printf("req %ld %u %u\n", t, dut->req_addr_o, dut->req_beats_o);
          if (!port.bursts.empty()) {
            err("error cycle %ld: a second burst while one is outstanding\n", t);
          }
          port.accept(dut->req_addr_o, dut->req_beats_o, cycle, static_cast<int>(latency));
          requested += dut->req_beats_o;
          // every requested instruction must fit: queued + in flight <= FetchDepth
          const long inflight = (requested - beatsIn) / beatsPerInstr;
          const long queued = beatsIn / beatsPerInstr - popped;
          if (queued + inflight > depth) {
            err("error cycle %ld: %ld queued + %ld requested > FetchDepth\n", t, queued, inflight);
          }
          if (requested > count * beatsPerInstr) {
            err("error cycle %ld: requests beyond the program\n", t);
          }
        }
        const long queued = beatsIn / beatsPerInstr - popped;
        if ((queued > 0) != static_cast<bool>(dut->instr_valid_o)) {
          err("error cycle %ld: instr_valid_o=%d with %ld instructions queued\n", t, dut->instr_valid_o, queued);
        }
        if (pop) {
          std::printf("instr %ld %s\n", t, hexBytes(dut->instr_o, 64).c_str());
          if (++popped == count) doneAt = c;
        }
      }
      tick(*dut);
      if (dv) {
        port.sent(cycle);
        beatsIn++;
      }
      cycle++;
      if (c > gap && (count == 0 || popped == count) && doneAt < 0) doneAt = c;
      if (doneAt >= 0 && c >= doneAt + 20) break;
      if (timedOut(c, gap + 100000, err)) break;
    }
    if (!port.bursts.empty() || dut->instr_valid_o) {
      err("error: data or instructions left over after the program\n");
    }
    endCommand(t, err);
  }
  dut->final();
  return 0;
}
