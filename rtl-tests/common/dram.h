// DRAM models for the memory-port unit benches: byte contents as a hash of the address (the TS
// side computes the same, see common/bench.ts dramByte), a read port that serves bursts in
// order after a latency with random data stalls, and a seeded PRNG for ready/valid stalls.
#pragma once
#include <cstdint>
#include <deque>

namespace gatec_tb {

inline uint8_t dramByte(uint32_t addr, uint32_t seed) {
  uint32_t x = (addr ^ seed) * 0x9e3779b1u;
  x ^= x >> 15;
  x *= 0x85ebca6bu;
  return static_cast<uint8_t>(x >> 24);
}

class Prng {
 public:
  explicit Prng(uint64_t seed) : s_(seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull) {}
  uint32_t next() {
    s_ = s_ * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(s_ >> 33);
  }
  /** true with probability pct/100 */
  bool chance(int pct) { return static_cast<int>(next() % 100) < pct; }

 private:
  uint64_t s_;
};

/**
 * Read side of the DRAM: accepted bursts are answered in order; a burst's first beat is ready
 * `latency` cycles after its acceptance (or after the previous burst's last beat), then beats
 * come on cycles where the valid dice say so.
 */
class ReadPort {
 public:
  struct Burst {
    uint32_t addr;
    uint32_t beats;
    long readyAt;
  };
  std::deque<Burst> bursts;
  uint32_t beat = 0;  // beats of the front burst already sent

  /** Call before the edge of cycle `now`: does a beat go out this cycle? */
  bool beatValid(long now, bool dice) const { return !bursts.empty() && bursts.front().readyAt <= now && dice; }
  uint32_t beatAddr(uint32_t busBytes) const { return bursts.front().addr + beat * busBytes; }
  bool beatLast() const { return beat + 1 == bursts.front().beats; }
  /** After the edge: the beat went out. */
  void sent(long now) {
    if (++beat == bursts.front().beats) {
      bursts.pop_front();
      beat = 0;
      if (!bursts.empty() && bursts.front().readyAt <= now) bursts.front().readyAt = now + 1;
    }
  }
  void accept(uint32_t addr, uint32_t beats, long now, int latency) {
    bursts.push_back({addr, beats, now + latency});
  }
};

}  // namespace gatec_tb
