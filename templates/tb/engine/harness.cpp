// gatec engine harness: the DRAM behind the engine's memory port, its byte and cycle counters,
// and the run-file interpreter of docs/engine.md. Built by Verilator with `--prefix Vtop`, so it
// serves any <name>_top of any bus width without change; the bus width is read off the port type.
//
//   Vtop <runfile> [+verilator+...]
//
// Run file, one command per line ('#' starts a comment; numbers are decimal or 0x hex; a file
// name is the rest of the line and may hold spaces; relative names are relative to the run file):
//   dram <bytes>                                  allocate, zeroed
//   image <file>                                  copy to address 0
//   bw <bytes_per_cycle> <latency>                per direction; bytes_per_cycle may be fractional
//   load <addr> <file>
//   run <prog_addr> <prog_count> <stats_file> <max_cycles>
//   dump <addr> <bytes> <file>
//   trace <file>                                  record the next run as an FST waveform
//                                                 (builds with --trace-fst only)
//
// Exit status: 0 done, 1 bad run file or file error, 3 memory-port protocol error (one line on
// stderr names the cycle and the request), 4 every command ran but a run reached max_cycles.
//
// Timing model (one clock cycle per loop iteration; a handshake fires at the rising edge when
// valid and ready were both high after the inputs of that cycle settled):
//   - Requests are accepted whenever the harness' request queue has room (16 per direction).
//   - Reads are served in order. The first beat of a burst accepted in cycle t is offered no
//     earlier than cycle t + max(latency, 1) and no earlier than the cycle after the previous
//     burst's last beat; beats then flow while read credit allows.
//   - Credit: a direction gains bytes_per_cycle in every cycle in which it has work (reads: the
//     oldest burst is past its latency; writes: a burst is queued) and spends B per beat, at most
//     one beat per cycle; without work its credit is 0. So a burst of n beats on an idle port
//     takes n*B/bytes_per_cycle cycles (rounded up) however long the port was idle, and
//     back-to-back bursts stream at the exact rate. The bank is capped at B + bytes_per_cycle
//     (less one unit), what a continuous stream needs, so a stalled consumer banks at most a beat.
//   - Writes are posted: a data beat is accepted once its request is queued and write credit
//     allows, and lands in DRAM at that edge.
//   - Bytes are counted per beat against the tag of its request; cycles against layer_tag_o.

#include <cerrno>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "Vtop.h"
#include "verilated.h"
#if VM_TRACE_FST
#include "verilated_fst_c.h"
#endif

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "beat byte k is bits 8k+7:8k; the memcpy packing below relies on a little-endian host");

namespace {

// ---------------------------------------------------------------------------------------------
// Bus access, generic over Verilator's port types: IData (B = 4), QData (B = 8), VlWide<B/4>.
// On a little-endian host the byte order of all three matches "beat byte k is bits 8k+7:8k".

using DataPort = std::remove_reference_t<decltype(std::declval<Vtop&>().rd_data_i)>;
constexpr size_t kBusBytes = sizeof(DataPort);
static_assert(kBusBytes >= 4 && kBusBytes <= 64 && (kBusBytes & (kBusBytes - 1)) == 0,
              "BusBytes must be a power of two in 4..64");
static_assert(sizeof(std::remove_reference_t<decltype(std::declval<Vtop&>().wr_data_o)>) == kBusBytes,
              "rd_data_i and wr_data_o must have the same width");

template <typename T>
inline void putBeat(T& port, const uint8_t* src) {
  if constexpr (std::is_integral_v<T>) {
    T v;
    std::memcpy(&v, src, sizeof v);
    port = v;
  } else {
    std::memcpy(port.data(), src, sizeof port);
  }
}

template <typename T>
inline void getBeat(const T& port, uint8_t* dst) {
  if constexpr (std::is_integral_v<T>) {
    std::memcpy(dst, &port, sizeof port);
  } else {
    std::memcpy(dst, port.data(), sizeof port);
  }
}

// ---------------------------------------------------------------------------------------------

constexpr unsigned kMaxBurstBeats = 64;
constexpr unsigned kQueueDepth = 16;
constexpr uint32_t kFetchTag = 0xFFFF;
constexpr unsigned kNumTags = 0x10000;
// Credit is fixed point so fractional bandwidths (12.8 bytes/cycle) stay exact and integer.
constexpr int kCreditFrac = 16;
constexpr int kResetCycles = 4;

[[noreturn]] void die(int code, const char* fmt, ...) {
  std::fputs("harness: ", stderr);
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
  std::fflush(stdout);
  std::exit(code);
}

struct Burst {
  uint64_t addr;
  uint64_t ready_cycle;  // reads: first cycle the first beat may be offered
  uint32_t beats;
  uint32_t beat;         // beats already transferred
  uint16_t tag;
  uint8_t id;
};

// Fixed-capacity FIFO: the hot loop must not allocate.
struct BurstQueue {
  Burst slot[kQueueDepth];
  unsigned head = 0;
  unsigned count = 0;
  bool full() const { return count == kQueueDepth; }
  bool empty() const { return count == 0; }
  Burst& front() { return slot[head]; }
  void push(const Burst& b) {
    slot[(head + count) % kQueueDepth] = b;
    count++;
  }
  void pop() {
    head = (head + 1) % kQueueDepth;
    count--;
  }
  void clear() { head = count = 0; }
};

struct Counters {
  // Indexed by tag: a 16-bit tag space is small enough that flat arrays beat any map.
  std::vector<uint64_t> cycles = std::vector<uint64_t>(kNumTags);
  std::vector<uint64_t> rd_bytes = std::vector<uint64_t>(kNumTags);
  std::vector<uint64_t> wr_bytes = std::vector<uint64_t>(kNumTags);
  // conv taps in zero blocks (skip mode), against the tag of their CONV
  std::vector<uint64_t> zero_taps = std::vector<uint64_t>(kNumTags);
  // gated-on output activations (gate mode), against the tag of their CONV
  std::vector<uint64_t> gated_on = std::vector<uint64_t>(kNumTags);
  void clear() {
    std::fill(zero_taps.begin(), zero_taps.end(), 0);
    std::fill(gated_on.begin(), gated_on.end(), 0);
    std::fill(cycles.begin(), cycles.end(), 0);
    std::fill(rd_bytes.begin(), rd_bytes.end(), 0);
    std::fill(wr_bytes.begin(), wr_bytes.end(), 0);
  }
};

// Waveforms. Every evaluation of the model goes through Sim::eval, which calls dump(). A build
// with --trace-fst (gatec sim --trace: its own cache entry, so untraced runs stay fast) records
// the `run` after a `trace <file>` command into an FST file (GTKWave, Surfer), one time unit per
// half clock period; any other build rejects the command.
#if VM_TRACE_FST
struct Waves {
  std::unique_ptr<VerilatedFstC> fst;
  std::string pending;  // armed by `trace`, opened at the next run
  bool enabled() const { return fst && fst->isOpen(); }
  void arm(const std::string& file) { pending = file; }
  void open(Vtop* top) {
    if (pending.empty()) return;
    if (!fst) {
      fst = std::make_unique<VerilatedFstC>();
      top->trace(fst.get(), 99);
    }
    fst->open(pending.c_str());
    pending.clear();
  }
  void dump(uint64_t time) { fst->dump(time); }
  void close() {
    if (enabled()) fst->close();
  }
};
constexpr bool kCanTrace = true;
#else
struct Waves {
  bool enabled() const { return false; }
  void arm(const std::string& /*file*/) {}
  void open(Vtop* /*top*/) {}
  void dump(uint64_t /*time*/) {}
  void close() {}
};
constexpr bool kCanTrace = false;
#endif

class Sim {
 public:
  explicit Sim(VerilatedContext* ctx) : ctx_(ctx), top_(std::make_unique<Vtop>(ctx, "TOP")) {}
  // The next run is recorded into `file` (traced builds only).
  void trace(const std::string& file) { waves_.arm(file); }
  ~Sim() {
    top_->final();
    waves_.close();
  }

  std::vector<uint8_t> dram;
  uint64_t bpc_fix = uint64_t(kBusBytes) << kCreditFrac;  // one beat per cycle until `bw`
  uint64_t latency = 1;

  // Returns false on timeout.
  bool run(uint32_t prog_addr, uint32_t prog_count, uint64_t max_cycles, uint64_t* cycles_out);
  const Counters& counters() const { return ctr_; }

 private:
  void eval() {
    top_->eval();
    if (waves_.enabled()) waves_.dump(ctx_->time());
  }
  // One full clock period with the current inputs (used during reset).
  void tick() {
    top_->clk_i = 0;
    eval();
    ctx_->timeInc(1);
    top_->clk_i = 1;
    eval();
    ctx_->timeInc(1);
  }
  [[noreturn]] void protocolError(uint64_t cycle, const char* fmt, ...);
  void checkBurst(uint64_t cycle, const char* dir, uint64_t addr, uint32_t beats);

  VerilatedContext* ctx_;
  std::unique_ptr<Vtop> top_;
  Waves waves_;
  Counters ctr_;
  BurstQueue rdq_;
  BurstQueue wrq_;
};

void Sim::protocolError(uint64_t cycle, const char* fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  die(3, "protocol error at cycle %llu (layer tag %u): %s", static_cast<unsigned long long>(cycle),
      static_cast<unsigned>(top_->layer_tag_o), msg);
}

void Sim::checkBurst(uint64_t cycle, const char* dir, uint64_t addr, uint32_t beats) {
  if (beats == 0 || beats > kMaxBurstBeats) {
    protocolError(cycle, "%s request at 0x%llx for %u beats (1..%u allowed)", dir,
                  static_cast<unsigned long long>(addr), beats, kMaxBurstBeats);
  }
  if (addr % kBusBytes != 0) {
    protocolError(cycle, "%s request at 0x%llx is not aligned to the %zu-byte bus", dir,
                  static_cast<unsigned long long>(addr), kBusBytes);
  }
  if (addr + uint64_t(beats) * kBusBytes > dram.size()) {
    protocolError(cycle, "%s request at 0x%llx for %u beats of %zu bytes is outside DRAM (%zu bytes)",
                  dir, static_cast<unsigned long long>(addr), beats, kBusBytes, dram.size());
  }
}

bool Sim::run(uint32_t prog_addr, uint32_t prog_count, uint64_t max_cycles, uint64_t* cycles_out) {
  Vtop& t = *top_;
  waves_.open(top_.get());
  ctr_.clear();
  rdq_.clear();
  wrq_.clear();

  t.start_i = 0;
  t.prog_addr_i = prog_addr;
  t.prog_len_i = prog_count;
  t.rd_req_ready_i = 0;
  t.rd_data_valid_i = 0;
  t.rd_data_id_i = 0;
  t.rd_data_last_i = 0;
  t.wr_req_ready_i = 0;
  t.wr_data_ready_i = 0;
  uint8_t zero[kBusBytes] = {};
  putBeat(t.rd_data_i, zero);
  t.rst_ni = 0;
  for (int i = 0; i < kResetCycles; i++) tick();
  t.rst_ni = 1;
  tick();

  const uint64_t beat_fix = uint64_t(kBusBytes) << kCreditFrac;
  const uint64_t cap = beat_fix + bpc_fix - 1;
  const uint64_t lat = latency < 1 ? 1 : latency;
  uint64_t rd_credit = 0;
  uint64_t wr_credit = 0;
  uint8_t wbuf[kBusBytes];
  uint64_t cycle = 0;
  bool timed_out = false;

  t.start_i = 1;
  for (;; cycle++) {
    if (cycle >= max_cycles) {
      timed_out = true;
      break;
    }
    // Inputs of this cycle depend only on harness state, never on this cycle's DUT outputs, so
    // there is no combinational loop through the harness.
    t.rd_req_ready_i = !rdq_.full();
    t.wr_req_ready_i = !wrq_.full();
    Burst* rb = rdq_.empty() ? nullptr : &rdq_.front();
    const bool rd_busy = rb && cycle >= rb->ready_cycle;
    rd_credit = rd_busy ? std::min(rd_credit + bpc_fix, cap) : 0;
    wr_credit = !wrq_.empty() ? std::min(wr_credit + bpc_fix, cap) : 0;
    const bool rd_offer = rd_busy && rd_credit >= beat_fix;
    t.rd_data_valid_i = rd_offer;
    if (rd_offer) {
      putBeat(t.rd_data_i, &dram[rb->addr + uint64_t(rb->beat) * kBusBytes]);
      t.rd_data_id_i = rb->id;
      t.rd_data_last_i = rb->beat + 1 == rb->beats;
    }
    t.wr_data_ready_i = !wrq_.empty() && wr_credit >= beat_fix;

    t.clk_i = 0;
    eval();
    ctx_->timeInc(1);
    if (cycle > 0 && t.done_o) break;

    // Sample handshakes before the edge, as the flops see them.
    const bool rd_req_fire = t.rd_req_valid_o && t.rd_req_ready_i;
    const bool rd_data_fire = rd_offer && t.rd_data_ready_o;
    const bool wr_req_fire = t.wr_req_valid_o && t.wr_req_ready_i;
    const bool wr_data_fire = t.wr_data_valid_o && t.wr_data_ready_i;
    Burst nr{}, nw{};
    if (rd_req_fire) {
      nr = Burst{t.rd_req_addr_o, cycle + lat, t.rd_req_beats_o, 0,
                 static_cast<uint16_t>(t.rd_req_tag_o), static_cast<uint8_t>(t.rd_req_id_o)};
    }
    if (wr_req_fire) {
      nw = Burst{t.wr_req_addr_o, 0, t.wr_req_beats_o, 0, static_cast<uint16_t>(t.wr_req_tag_o), 0};
    }
    bool wr_last = false;
    if (wr_data_fire) {
      getBeat(t.wr_data_o, wbuf);
      wr_last = t.wr_data_last_o;
    }
    ctr_.cycles[t.layer_tag_o]++;
    ctr_.zero_taps[t.zero_tag_o] += t.zero_taps_o;
    ctr_.gated_on[t.zero_tag_o] += t.gate_on_o;

    t.clk_i = 1;
    eval();
    ctx_->timeInc(1);
    t.start_i = 0;

    if (rd_data_fire) {
      ctr_.rd_bytes[rb->tag] += kBusBytes;
      rd_credit -= beat_fix;
      if (++rb->beat == rb->beats) rdq_.pop();
    }
    if (wr_data_fire) {
      Burst& wb = wrq_.front();
      std::memcpy(&dram[wb.addr + uint64_t(wb.beat) * kBusBytes], wbuf, kBusBytes);
      ctr_.wr_bytes[wb.tag] += kBusBytes;
      wr_credit -= beat_fix;
      const bool last = ++wb.beat == wb.beats;
      if (wr_last != last) {
        protocolError(cycle, "write data beat %u of %u at 0x%llx has last=%d", wb.beat, wb.beats,
                      static_cast<unsigned long long>(wb.addr), wr_last ? 1 : 0);
      }
      if (last) wrq_.pop();
    }
    if (rd_req_fire) {
      checkBurst(cycle, "read", nr.addr, nr.beats);
      rdq_.push(nr);
    }
    if (wr_req_fire) {
      checkBurst(cycle, "write", nw.addr, nw.beats);
      if (nw.tag == kFetchTag) protocolError(cycle, "write request with the fetch tag 0xFFFF");
      wrq_.push(nw);
    }
  }

  if (!timed_out) {
    // done_o promises that every DRAM beat has completed; anything still queued would be lost.
    if (!rdq_.empty()) {
      const Burst& b = rdq_.front();
      protocolError(cycle, "done_o with %u read burst(s) outstanding (first: 0x%llx, %u of %u beats, id %u)",
                    rdq_.count, static_cast<unsigned long long>(b.addr), b.beat, b.beats, b.id);
    }
    if (!wrq_.empty()) {
      const Burst& b = wrq_.front();
      protocolError(cycle, "done_o with %u write burst(s) outstanding (first: 0x%llx, %u of %u beats)",
                    wrq_.count, static_cast<unsigned long long>(b.addr), b.beat, b.beats);
    }
  }
  waves_.close();
  *cycles_out = cycle;
  return !timed_out;
}

// ---------------------------------------------------------------------------------------------
// Run file

struct RunFile {
  std::string path;
  std::string dir;
  unsigned line = 0;

  [[noreturn]] void fail(const char* fmt, ...) const {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    die(1, "%s:%u: %s", path.c_str(), line, msg);
  }
  std::string resolve(const std::string& name) const {
    if (name.empty() || name[0] == '/' || dir.empty()) return name;
    return dir + "/" + name;
  }
};

// Splits off the next whitespace-separated token of `s` starting at `*pos`.
std::string nextToken(const std::string& s, size_t* pos) {
  size_t b = s.find_first_not_of(" \t", *pos);
  if (b == std::string::npos) {
    *pos = s.size();
    return "";
  }
  size_t e = s.find_first_of(" \t", b);
  if (e == std::string::npos) e = s.size();
  *pos = e;
  return s.substr(b, e - b);
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

uint64_t parseUint(const RunFile& rf, const std::string& tok, const char* what) {
  if (tok.empty()) rf.fail("missing %s", what);
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(tok.c_str(), &end, 0);
  if (errno != 0 || *end != '\0' || tok[0] == '-') rf.fail("bad %s '%s'", what, tok.c_str());
  return v;
}

double parsePositive(const RunFile& rf, const std::string& tok, const char* what) {
  if (tok.empty()) rf.fail("missing %s", what);
  char* end = nullptr;
  double v = std::strtod(tok.c_str(), &end);
  if (*end != '\0' || !(v > 0) || !std::isfinite(v)) rf.fail("bad %s '%s'", what, tok.c_str());
  return v;
}

std::vector<uint8_t> readWhole(const RunFile& rf, const std::string& file) {
  FILE* f = std::fopen(file.c_str(), "rb");
  if (!f) rf.fail("cannot open %s: %s", file.c_str(), std::strerror(errno));
  std::vector<uint8_t> buf;
  uint8_t chunk[1 << 16];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) buf.insert(buf.end(), chunk, chunk + n);
  const bool err = std::ferror(f);
  std::fclose(f);
  if (err) rf.fail("cannot read %s", file.c_str());
  return buf;
}

void copyIn(const RunFile& rf, Sim& sim, uint64_t addr, const std::string& file) {
  const std::vector<uint8_t> data = readWhole(rf, file);
  if (addr > sim.dram.size() || data.size() > sim.dram.size() - addr) {
    rf.fail("%s (%zu bytes) at 0x%llx does not fit in DRAM (%zu bytes)", file.c_str(), data.size(),
            static_cast<unsigned long long>(addr), sim.dram.size());
  }
  std::memcpy(sim.dram.data() + addr, data.data(), data.size());
}

void writeStats(const RunFile& rf, const std::string& file, const Counters& c, uint64_t cycles,
                bool timed_out) {
  FILE* f = std::fopen(file.c_str(), "w");
  if (!f) rf.fail("cannot write %s: %s", file.c_str(), std::strerror(errno));
  std::fprintf(f, "cycles %llu\n", static_cast<unsigned long long>(cycles));
  for (unsigned tag = 0; tag < kNumTags; tag++) {
    if (tag == kFetchTag) continue;
    if (c.cycles[tag] == 0 && c.rd_bytes[tag] == 0 && c.wr_bytes[tag] == 0 && c.zero_taps[tag] == 0 &&
        c.gated_on[tag] == 0) continue;
    std::fprintf(f, "layer %u %llu %llu %llu %llu %llu\n", tag, static_cast<unsigned long long>(c.cycles[tag]),
                 static_cast<unsigned long long>(c.rd_bytes[tag]),
                 static_cast<unsigned long long>(c.wr_bytes[tag]),
                 static_cast<unsigned long long>(c.zero_taps[tag]),
                 static_cast<unsigned long long>(c.gated_on[tag]));
  }
  std::fprintf(f, "fetch %llu\n", static_cast<unsigned long long>(c.rd_bytes[kFetchTag]));
  if (timed_out) std::fprintf(f, "timeout\n");
  if (std::fclose(f) != 0) rf.fail("cannot write %s", file.c_str());
}

int interpret(Sim& sim, RunFile& rf) {
  FILE* in = std::fopen(rf.path.c_str(), "r");
  if (!in) die(1, "cannot open run file %s: %s", rf.path.c_str(), std::strerror(errno));
  int status = 0;
  std::string line;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, in)) {
    line.assign(buf);
    while (!line.empty() && line.back() != '\n' && std::fgets(buf, sizeof buf, in)) line.append(buf);
    rf.line++;
    const size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    line = trim(line);
    if (line.empty()) continue;
    size_t pos = 0;
    const std::string cmd = nextToken(line, &pos);
    if (cmd == "dram") {
      const uint64_t bytes = parseUint(rf, nextToken(line, &pos), "byte count");
      // Free first: a large DRAM should not live twice.
      std::vector<uint8_t>().swap(sim.dram);
      sim.dram.assign(bytes, 0);
    } else if (cmd == "image") {
      copyIn(rf, sim, 0, rf.resolve(trim(line.substr(pos))));
    } else if (cmd == "bw") {
      const double bpc = parsePositive(rf, nextToken(line, &pos), "bytes per cycle");
      sim.bpc_fix = static_cast<uint64_t>(std::llround(bpc * double(1 << kCreditFrac)));
      if (sim.bpc_fix == 0) rf.fail("bytes per cycle %g is too small", bpc);
      sim.latency = parseUint(rf, nextToken(line, &pos), "latency");
    } else if (cmd == "load") {
      const uint64_t addr = parseUint(rf, nextToken(line, &pos), "address");
      copyIn(rf, sim, addr, rf.resolve(trim(line.substr(pos))));
    } else if (cmd == "run") {
      const uint64_t prog_addr = parseUint(rf, nextToken(line, &pos), "program address");
      const uint64_t prog_count = parseUint(rf, nextToken(line, &pos), "instruction count");
      // The stats file may hold spaces: it is everything up to the last token.
      const std::string rest = trim(line.substr(pos));
      const size_t sp = rest.find_last_of(" \t");
      if (sp == std::string::npos) rf.fail("run needs <prog_addr> <prog_count> <stats_file> <max_cycles>");
      const std::string stats = rf.resolve(trim(rest.substr(0, sp)));
      const uint64_t max_cycles = parseUint(rf, rest.substr(sp + 1), "max cycles");
      if (prog_addr > 0xFFFFFFFFull || prog_count > 0xFFFFFFFFull) rf.fail("program address or count over 32 bits");
      if (sim.dram.empty()) rf.fail("run before dram");
      uint64_t cycles = 0;
      const bool ok = sim.run(static_cast<uint32_t>(prog_addr), static_cast<uint32_t>(prog_count),
                              max_cycles, &cycles);
      writeStats(rf, stats, sim.counters(), cycles, !ok);
      if (!ok) {
        std::fprintf(stderr, "harness: %s:%u: run timed out after %llu cycles\n", rf.path.c_str(), rf.line,
                     static_cast<unsigned long long>(cycles));
        status = 4;
      }
    } else if (cmd == "trace") {
      const std::string file = rf.resolve(trim(line.substr(pos)));
      if (file.empty()) rf.fail("trace needs <file>");
      if (!kCanTrace) rf.fail("trace needs a harness built with --trace-fst (gatec sim --trace)");
      sim.trace(file);
    } else if (cmd == "dump") {
      const uint64_t addr = parseUint(rf, nextToken(line, &pos), "address");
      const uint64_t bytes = parseUint(rf, nextToken(line, &pos), "byte count");
      const std::string file = rf.resolve(trim(line.substr(pos)));
      if (file.empty()) rf.fail("dump needs <addr> <bytes> <file>");
      if (addr > sim.dram.size() || bytes > sim.dram.size() - addr) {
        rf.fail("dump of %llu bytes at 0x%llx is outside DRAM (%zu bytes)", static_cast<unsigned long long>(bytes),
                static_cast<unsigned long long>(addr), sim.dram.size());
      }
      FILE* f = std::fopen(file.c_str(), "wb");
      if (!f) rf.fail("cannot write %s: %s", file.c_str(), std::strerror(errno));
      const size_t n = std::fwrite(sim.dram.data() + addr, 1, bytes, f);
      if (std::fclose(f) != 0 || n != bytes) rf.fail("cannot write %s", file.c_str());
    } else {
      rf.fail("unknown command '%s'", cmd.c_str());
    }
  }
  std::fclose(in);
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  // Tracing must be allowed before the model exists; it costs nothing until a trace opens.
  if (kCanTrace) ctx->traceEverOn(true);
  RunFile rf;
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    if (a.rfind("+verilator+", 0) == 0) continue;
    if (!rf.path.empty()) die(1, "usage: %s <runfile>", argv[0]);
    rf.path = a;
  }
  if (rf.path.empty()) die(1, "usage: %s <runfile>", argv[0]);
  const size_t slash = rf.path.find_last_of('/');
  rf.dir = slash == std::string::npos ? "" : rf.path.substr(0, slash);
  Sim sim(ctx.get());
  return interpret(sim, rf);
}
