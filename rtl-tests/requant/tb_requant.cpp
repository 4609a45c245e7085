// Unit bench for gatec_requant: reads "acc mult shift zp lo hi" lines on stdin, prints y per line.
#include <cstdio>
#include <memory>
#include "Vgatec_requant.h"
#include "verilated.h"

int main(int argc, char** argv) {
  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  auto dut = std::make_unique<Vgatec_requant>(ctx.get());
  auto tick = [&] {
    dut->clk_i = 0;
    dut->eval();
    dut->clk_i = 1;
    dut->eval();
  };
  dut->rst_ni = 0;
  dut->eval();
  dut->rst_ni = 1;
  long long acc, mult, shift, zp, lo, hi;
  while (std::scanf("%lld %lld %lld %lld %lld %lld", &acc, &mult, &shift, &zp, &lo, &hi) == 6) {
    dut->valid_i = 1;
    dut->acc_i = static_cast<uint32_t>(acc);
    dut->mult_i = static_cast<uint32_t>(mult);
    dut->shift_i = static_cast<uint32_t>(shift);
    dut->zp_i = static_cast<uint8_t>(zp);
    dut->lo_i = static_cast<uint8_t>(lo);
    dut->hi_i = static_cast<uint8_t>(hi);
    tick();
    if (!dut->valid_o) return 1;
    std::printf("%d\n", static_cast<int>(static_cast<int8_t>(dut->y_o)));
  }
  dut->final();
  return 0;
}
