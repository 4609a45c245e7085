// Unit bench for gatec_pe_array (any PeOc x PeIc set with -G): the first stdin line is
// "PeOc PeIc"; then one line per cycle: "valid x_0 .. x_{PeIc-1} w_0 .. w_{PeOc*PeIc-1}"
// (x centred 9-bit values, w int8, weight (r, c) is w_{r*PeIc+c}). For every cycle the bench
// prints the outputs seen during that cycle, before its clock edge: "valid_o sum_0 .. sum_{PeOc-1}".
// Two idle cycles follow the last line so the last inputs drain. rst_ni is low for the first
// cycle of the run only.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>
#include "Vgatec_pe_array.h"
#include "verilated.h"
#include "bits.h"

int main(int argc, char** argv) {
  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  auto dut = std::make_unique<Vgatec_pe_array>(ctx.get());
  int peOc = 0, peIc = 0;
  if (std::scanf("%d %d", &peOc, &peIc) != 2) return 2;
  auto cycle = [&](bool valid, const std::vector<long>& x, const std::vector<long>& w) {
    dut->valid_i = valid;
    for (int c = 0; c < peIc; c++) gatec_tb::put(dut->x_i, c * 9, 9, static_cast<uint64_t>(x[c]));
    for (int k = 0; k < peOc * peIc; k++) gatec_tb::put(dut->w_i, k * 8, 8, static_cast<uint64_t>(w[k]));
    dut->clk_i = 0;
    dut->eval();
    std::printf("%d", dut->valid_o ? 1 : 0);
    for (int r = 0; r < peOc; r++) std::printf(" %d", static_cast<int32_t>(gatec_tb::get(dut->sum_o, r * 32, 32)));
    std::printf("\n");
    dut->clk_i = 1;
    dut->eval();
  };
  // reset: asynchronous, released before the first edge
  dut->rst_ni = 0;
  dut->clk_i = 0;
  dut->eval();
  dut->rst_ni = 1;
  dut->eval();
  std::vector<long> x(peIc), w(peOc * peIc);
  int valid = 0;
  for (;;) {
    if (std::scanf("%d", &valid) != 1) break;
    for (auto& v : x) if (std::scanf("%ld", &v) != 1) return 2;
    for (auto& v : w) if (std::scanf("%ld", &v) != 1) return 2;
    cycle(valid != 0, x, w);
  }
  std::vector<long> zx(peIc, 0), zw(peOc * peIc, 0);
  cycle(false, zx, zw);
  cycle(false, zx, zw);
  dut->final();
  return 0;
}
