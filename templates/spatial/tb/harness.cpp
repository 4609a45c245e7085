// Verilator harness of a spatial build (docs/spatial.md, "Simulation"). The top is compiled with
// --prefix Vtop, so this file serves every network.
//   harness <run file> <out file>
// Run file: "<samples> <in elements> <out elements> <max cycles>" then one line of int8 inputs per
// sample. Samples are streamed back to back (a beat offered every cycle, the output always
// ready), which is what measures the initiation interval. Out file, per sample:
//   sample <n> <cycle of the first input beat> <cycle of the last output beat> <outputs...>
// and "timeout" when the cycle limit is reached.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>
#include "Vtop.h"
#include "verilated.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s <run file> <out file>\n", argv[0]);
    return 2;
  }
  FILE* in = std::fopen(argv[1], "r");
  if (!in) {
    std::fprintf(stderr, "cannot open %s\n", argv[1]);
    return 2;
  }
  long samples = 0, nin = 0, nout = 0, maxCycles = 0;
  if (std::fscanf(in, "%ld %ld %ld %ld", &samples, &nin, &nout, &maxCycles) != 4) {
    std::fprintf(stderr, "bad run file header\n");
    return 2;
  }
  std::vector<int> x(static_cast<size_t>(samples * nin));
  for (auto& v : x) {
    if (std::fscanf(in, "%d", &v) != 1) {
      std::fprintf(stderr, "run file: too few input values\n");
      return 2;
    }
  }
  std::fclose(in);

  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  auto top = std::make_unique<Vtop>(ctx.get());
  top->clk_i = 0;
  top->rst_ni = 0;
  top->s_valid_i = 0;
  top->s_data_i = 0;
  top->m_ready_i = 0;
  top->eval();
  for (int i = 0; i < 2; i++) {
    top->clk_i = 1;
    top->eval();
    top->clk_i = 0;
    top->eval();
  }
  top->rst_ni = 1;
  top->eval();

  std::vector<long> first(static_cast<size_t>(samples), -1), last(static_cast<size_t>(samples), -1);
  std::vector<int> y(static_cast<size_t>(samples * nout));
  long sent = 0, received = 0;
  bool timeout = false;
  for (long cycle = 0; received < samples * nout; cycle++) {
    if (cycle >= maxCycles) {
      timeout = true;
      break;
    }
    top->s_valid_i = sent < samples * nin;
    top->s_data_i = static_cast<uint8_t>(sent < samples * nin ? x[static_cast<size_t>(sent)] : 0);
    top->m_ready_i = 1;
    top->eval();
    if (top->s_valid_i && top->s_ready_o) {
      if (sent % nin == 0) first[static_cast<size_t>(sent / nin)] = cycle;
      sent++;
    }
    if (top->m_valid_o && top->m_ready_i) {
      y[static_cast<size_t>(received)] = static_cast<int8_t>(top->m_data_o);
      const bool lastBeat = received % nout == nout - 1;
      if (lastBeat != static_cast<bool>(top->m_last_o)) {
        std::fprintf(stderr, "m_last_o is %d on output beat %ld of a sample of %ld\n", top->m_last_o, received % nout, nout);
        return 1;
      }
      if (lastBeat) last[static_cast<size_t>(received / nout)] = cycle;
      received++;
    }
    top->clk_i = 1;
    top->eval();
    top->clk_i = 0;
    top->eval();
  }
  top->final();

  FILE* out = std::fopen(argv[2], "w");
  if (!out) return 2;
  for (long s = 0; s < samples; s++) {
    std::fprintf(out, "sample %ld %ld %ld", s, first[static_cast<size_t>(s)], last[static_cast<size_t>(s)]);
    for (long i = 0; i < nout; i++) std::fprintf(out, " %d", s * nout + i < received ? y[static_cast<size_t>(s * nout + i)] : 0);
    std::fprintf(out, "\n");
  }
  if (timeout) std::fprintf(out, "timeout\n");
  std::fclose(out);
  return 0;
}
