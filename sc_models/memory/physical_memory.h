// PhysicalMemory: the system's DRAM as a TLM-2.0 target plus a zero-time backdoor.
//
// Storage is sparse: a 4 KiB frame is allocated on the first write of a non-zero
// byte; everything else reads as zeros, so a simulated size of many GiB costs host
// memory only for the frames touched. A read never allocates.
//
// Timing (b_transport): the address space is interleaved over `channels` DRAM
// channels in units of `interleave_bytes` (channel = (addr / interleave) % channels).
// Each channel is an iosim::ServerPool with one server whose occupancy is the data
// burst: bytes / channel bandwidth. The DRAM access latency itself is pipelined
// (banks work in parallel, commands overlap) and is not part of the occupancy.
// An access that arrives at t (sc_time_stamp() + incoming delay) splits its bytes
// over the channels it touches; each touched channel is reserved once for its share
// and the access completes at max(channel finish) + access_latency. An access on an
// idle channel therefore costs access_latency + burst, and each access queued behind
// it on the same channel adds one more burst time.
//
// The data is read or written when b_transport is called (the initiator calls it at
// the simulated time of the access; the global quantum defaults to zero); the
// latency is only annotated. Callers: the memory bus (CPU cores, the IOMMU).
//
// Responses: an access outside [0, size_bytes) gets TLM_ADDRESS_ERROR_RESPONSE, byte
// enables TLM_BYTE_ENABLE_ERROR_RESPONSE, streaming (width < length)
// TLM_BURST_ERROR_RESPONSE, a zero length or null data pointer
// TLM_GENERIC_ERROR_RESPONSE; rejected accesses add no delay and change nothing.
// transport_dbg takes no time, is not counted, ignores byte enables and transfers
// up to the end of memory (returning the byte count).
//
// Simplifications: no banks, rows, refresh or read/write turnaround; reads and
// writes cost the same; no DMI.
#pragma once

#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include <array>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "sc_models/memory/page_size.h"
#include "sc_models/timing/server_pool.h"

namespace iosim {

// A little-endian 64-bit value at b, and its store, each written as one expression
// the compiler turns into a single load or store (a loop over the bytes it keeps).
inline uint64_t load_le64(const uint8_t* b) {
  return uint64_t{b[0]} | uint64_t{b[1]} << 8 | uint64_t{b[2]} << 16 | uint64_t{b[3]} << 24 |
         uint64_t{b[4]} << 32 | uint64_t{b[5]} << 40 | uint64_t{b[6]} << 48 | uint64_t{b[7]} << 56;
}
inline void store_le64(uint8_t* b, uint64_t v) {
  b[0] = static_cast<uint8_t>(v);
  b[1] = static_cast<uint8_t>(v >> 8);
  b[2] = static_cast<uint8_t>(v >> 16);
  b[3] = static_cast<uint8_t>(v >> 24);
  b[4] = static_cast<uint8_t>(v >> 32);
  b[5] = static_cast<uint8_t>(v >> 40);
  b[6] = static_cast<uint8_t>(v >> 48);
  b[7] = static_cast<uint8_t>(v >> 56);
}

struct PhysicalMemoryConfig {
  // Simulated DRAM size. Host memory is used only for touched frames.
  uint64_t size_bytes = uint64_t{64} << 30;
  // Idle DRAM latency excluding the data burst. LMBench random-load latency on a
  // 384-512 MB buffer measured 89-98 ns on Xeon Skylake-SP / Broadwell-EP (AnandTech,
  // "Sizing Up Servers: Intel's Skylake-SP Xeon versus AMD's EPYC 7000", memory
  // subsystem latency, 2017); with a 3 ns burst a 64-byte read costs 93 ns here.
  double access_latency_ns = 90.0;
  // DRAM channels. Xeon Scalable (Skylake-SP) has six DDR4 channels per socket
  // (Intel Xeon Scalable processor family platform brief, 2017).
  uint32_t channels = 6;
  // Channel interleave granularity. Intel memory controllers alternate channels
  // after each 64-byte cache line in interleaved mode (Intel Core processor
  // datasheet vol. 1, "Dual-Channel Symmetric Mode (Interleaved Mode)").
  uint64_t interleave_bytes = 64;
  // Peak bandwidth of one channel. DDR4-2666: 2666.67 MT/s x 8 bytes = 21.33 GB/s
  // (JEDEC JESD79-4 speed bins; 64-bit channel).
  double channel_bandwidth_gb_per_s = 21.33;

  // Throws ParamError naming the first invalid parameter.
  void validate() const;

  template <class V>
  void visit(V& v) {
    v("size_bytes", size_bytes, "bytes", "simulated DRAM size (multiple of 4 KiB)");
    v("access_latency_ns", access_latency_ns, "ns",
      "idle DRAM access latency, excluding the data burst");
    v("channels", channels, "channels", "DRAM channels, interleaved by address");
    v("interleave_bytes", interleave_bytes, "bytes",
      "consecutive bytes served by one channel before the next channel");
    v("channel_bandwidth_gb_per_s", channel_bandwidth_gb_per_s, "GB/s",
      "peak data bandwidth of one channel");
  }
};

class PhysicalMemory : public sc_core::sc_module {
 public:
  static constexpr uint64_t kFrameBytes = kPageBytes;
  static constexpr unsigned kFrameShift = kPageShift;

  tlm_utils::simple_target_socket<PhysicalMemory> socket;

  PhysicalMemory(sc_core::sc_module_name name, const PhysicalMemoryConfig& cfg);

  const PhysicalMemoryConfig& config() const { return cfg_; }
  uint64_t size_bytes() const { return cfg_.size_bytes; }

  // --- Zero-time functional backdoor (for models and checkers) -----------------
  // Addresses outside [0, size_bytes) throw std::out_of_range; frame operations
  // need a 4 KiB-aligned address (std::invalid_argument otherwise).
  void read(uint64_t addr, void* dst, uint64_t len) const;
  void write(uint64_t addr, const void* src, uint64_t len);
  uint64_t read_u64(uint64_t addr) const;  // little-endian, any alignment
  void write_u64(uint64_t addr, uint64_t value);
  void fill_frame(uint64_t frame_pa, uint8_t value);  // value 0 releases the frame
  void zero_frame(uint64_t frame_pa);
  void copy_frame(uint64_t dst_pa, uint64_t src_pa);
  bool frame_allocated(uint64_t addr) const;

  // Host frames currently holding data.
  uint64_t frames_allocated() const { return frames_.size(); }

  // --- Counters of timed (b_transport) accesses ----------------------------------
  uint64_t reads() const { return reads_; }
  uint64_t writes() const { return writes_; }
  uint64_t bytes() const { return bytes_; }
  // One channel's contention statistics (requests, total wait, total busy).
  const ServerPool& channel(unsigned i) const { return channels_.at(i); }
  unsigned channel_of(uint64_t addr) const {
    return static_cast<unsigned>((addr / cfg_.interleave_bytes) % cfg_.channels);
  }

 private:
  struct Frame {
    std::array<uint8_t, kFrameBytes> bytes{};
  };

  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned int transport_dbg(tlm::tlm_generic_payload& gp);
  tlm::tlm_response_status check(const tlm::tlm_generic_payload& gp) const;
  // Time from arrival until the data of [addr, addr + len) has been served.
  sc_core::sc_time service_time(uint64_t addr, uint64_t len, const sc_core::sc_time& arrival);
  sc_core::sc_time burst_time(uint64_t bytes) const;
  void check_range(uint64_t addr, uint64_t len, const char* what) const;
  // [addr, addr + len) lies inside memory and inside one frame (len <= kFrameBytes).
  bool within_one_frame(uint64_t addr, uint64_t len) const;
  void check_frame(uint64_t frame_pa, const char* what) const;
  // The frame, nullptr when it holds no data (through the memo).
  Frame* find(uint64_t frame_number) const;
  // The map changed for this frame (created or released): its memo slot must not
  // answer from before.
  void forget_frame(uint64_t frame_number);
  void copy_out(uint64_t addr, uint8_t* dst, uint64_t len) const;
  void copy_in(uint64_t addr, const uint8_t* src, uint64_t len);

  PhysicalMemoryConfig cfg_;
  std::unordered_map<uint64_t, std::unique_ptr<Frame>> frames_;
  // Recent find() answers, slot = frame number % kMemoSlots (frames are owned by
  // unique_ptr, so a Frame* stays valid until the frame is released).
  struct FrameMemo {
    uint64_t number = ~0ull;  // no frame has this number
    Frame* frame = nullptr;
  };
  static constexpr size_t kMemoSlots = 256;
  mutable std::array<FrameMemo, kMemoSlots> memo_{};
  std::vector<ServerPool> channels_;
  std::vector<uint64_t> channel_bytes_;  // scratch: bytes per channel of one access
  sc_core::sc_time latency_;
  unsigned interleave_shift_ = 0;      // log2(interleave_bytes) when a power of two > 1, else 0
  sc_core::sc_time interleave_burst_;  // burst time of one full interleave unit
  std::vector<sc_core::sc_time> small_bursts_;  // burst times of 0..64 bytes
  uint64_t reads_ = 0, writes_ = 0, bytes_ = 0;
};

}  // namespace iosim
