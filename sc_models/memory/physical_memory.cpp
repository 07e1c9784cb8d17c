// PhysicalMemory: sparse frame store, channel timing and TLM transport.
#include "sc_models/memory/physical_memory.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "sc_models/config/params.h"

namespace iosim {

using sc_core::sc_time;

void PhysicalMemoryConfig::validate() const {
  auto fail = [](const std::string& msg) { throw ParamError("physical memory: " + msg); };
  if (size_bytes == 0 || size_bytes % PhysicalMemory::kFrameBytes != 0) {
    fail("size_bytes must be a non-zero multiple of 4096 (got " + std::to_string(size_bytes) + ")");
  }
  if (!std::isfinite(access_latency_ns) || access_latency_ns < 0) {
    fail("access_latency_ns must be a finite number >= 0 (got " + format_value(access_latency_ns) +
         ")");
  }
  if (channels == 0) fail("channels must be >= 1");
  if (interleave_bytes == 0) fail("interleave_bytes must be >= 1");
  if (!std::isfinite(channel_bandwidth_gb_per_s) || channel_bandwidth_gb_per_s <= 0) {
    fail("channel_bandwidth_gb_per_s must be a finite number > 0 (got " +
         format_value(channel_bandwidth_gb_per_s) + ")");
  }
}

PhysicalMemory::PhysicalMemory(sc_core::sc_module_name name, const PhysicalMemoryConfig& cfg)
    : sc_module(name), socket("socket"), cfg_(cfg) {
  cfg_.validate();
  channels_.assign(cfg_.channels, ServerPool(1));
  channel_bytes_.assign(cfg_.channels, 0);
  latency_ = ns(cfg_.access_latency_ns);
  if (cfg_.interleave_bytes > 1 && (cfg_.interleave_bytes & (cfg_.interleave_bytes - 1)) == 0) {
    interleave_shift_ = static_cast<unsigned>(__builtin_ctzll(cfg_.interleave_bytes));
  }
  interleave_burst_ =
      ns(static_cast<double>(cfg_.interleave_bytes) / cfg_.channel_bandwidth_gb_per_s);
  for (uint64_t b = 0; b <= 64; ++b) {
    small_bursts_.push_back(ns(static_cast<double>(b) / cfg_.channel_bandwidth_gb_per_s));
  }
  socket.register_b_transport(this, &PhysicalMemory::b_transport);
  socket.register_transport_dbg(this, &PhysicalMemory::transport_dbg);
}

// ----------------------------------------------------------------------------
// TLM transport

tlm::tlm_response_status PhysicalMemory::check(const tlm::tlm_generic_payload& gp) const {
  const uint64_t addr = gp.get_address();
  const uint64_t len = gp.get_data_length();
  if (len == 0 || gp.get_data_ptr() == nullptr) return tlm::TLM_GENERIC_ERROR_RESPONSE;
  if (addr >= cfg_.size_bytes || len > cfg_.size_bytes - addr) {
    return tlm::TLM_ADDRESS_ERROR_RESPONSE;
  }
  if (gp.get_byte_enable_ptr() != nullptr) return tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE;
  const uint64_t width = gp.get_streaming_width();
  if (width != 0 && width < len) return tlm::TLM_BURST_ERROR_RESPONSE;
  return tlm::TLM_OK_RESPONSE;
}

void PhysicalMemory::b_transport(tlm::tlm_generic_payload& gp, sc_time& delay) {
  const tlm::tlm_command cmd = gp.get_command();
  if (cmd == tlm::TLM_IGNORE_COMMAND) {
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
    return;
  }
  const tlm::tlm_response_status status = check(gp);
  if (status != tlm::TLM_OK_RESPONSE) {
    gp.set_response_status(status);
    return;
  }
  const uint64_t addr = gp.get_address();
  const uint64_t len = gp.get_data_length();
  if (cmd == tlm::TLM_READ_COMMAND) {
    copy_out(addr, gp.get_data_ptr(), len);
    ++reads_;
  } else {
    copy_in(addr, gp.get_data_ptr(), len);
    ++writes_;
  }
  bytes_ += len;
  delay += service_time(addr, len, kernel_time() + delay);
  gp.set_dmi_allowed(false);
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

unsigned int PhysicalMemory::transport_dbg(tlm::tlm_generic_payload& gp) {
  const uint64_t addr = gp.get_address();
  if (addr >= cfg_.size_bytes || gp.get_data_ptr() == nullptr) {
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return 0;
  }
  const uint64_t len = std::min<uint64_t>(gp.get_data_length(), cfg_.size_bytes - addr);
  if (gp.get_command() == tlm::TLM_READ_COMMAND) {
    copy_out(addr, gp.get_data_ptr(), len);
  } else if (gp.get_command() == tlm::TLM_WRITE_COMMAND) {
    copy_in(addr, gp.get_data_ptr(), len);
  }
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
  return static_cast<unsigned int>(len);
}

// ----------------------------------------------------------------------------
// Timing

sc_time PhysicalMemory::burst_time(uint64_t bytes) const {
  if (bytes == cfg_.interleave_bytes) return interleave_burst_;
  if (bytes < small_bursts_.size()) return small_bursts_[bytes];
  return ns(static_cast<double>(bytes) / cfg_.channel_bandwidth_gb_per_s);
}

sc_time PhysicalMemory::service_time(uint64_t addr, uint64_t len, const sc_time& arrival) {
  const uint64_t unit = cfg_.interleave_bytes;
  // A power-of-two unit (the usual case) shifts instead of dividing.
  const uint64_t first = interleave_shift_ ? addr >> interleave_shift_ : addr / unit;
  const uint64_t last =
      interleave_shift_ ? (addr + len - 1) >> interleave_shift_ : (addr + len - 1) / unit;
  if (first == last) {  // common case: the access stays on one channel
    ServerPool& ch = channels_[first % cfg_.channels];
    return ch.reserve(arrival, burst_time(len)).finish - arrival + latency_;
  }
  std::fill(channel_bytes_.begin(), channel_bytes_.end(), 0);
  for (uint64_t u = first; u <= last; ++u) {
    const uint64_t lo = std::max(addr, u * unit);
    const uint64_t hi = std::min(addr + len, (u + 1) * unit);
    channel_bytes_[u % cfg_.channels] += hi - lo;
  }
  sc_time done = arrival;
  for (unsigned c = 0; c < cfg_.channels; ++c) {
    if (channel_bytes_[c] == 0) continue;
    done = std::max(done, channels_[c].reserve(arrival, burst_time(channel_bytes_[c])).finish);
  }
  return done - arrival + latency_;
}

// ----------------------------------------------------------------------------
// Sparse storage

PhysicalMemory::Frame* PhysicalMemory::find(uint64_t frame_number) const {
  FrameMemo& m = memo_[frame_number % kMemoSlots];
  if (m.number == frame_number) return m.frame;
  auto it = frames_.find(frame_number);
  m = {frame_number, it == frames_.end() ? nullptr : it->second.get()};
  return m.frame;
}

void PhysicalMemory::forget_frame(uint64_t frame_number) {
  FrameMemo& m = memo_[frame_number % kMemoSlots];
  if (m.number == frame_number) m = FrameMemo{};
}

void PhysicalMemory::copy_out(uint64_t addr, uint8_t* dst, uint64_t len) const {
  while (len > 0) {
    const uint64_t off = addr & (kFrameBytes - 1);
    const uint64_t n = std::min(len, kFrameBytes - off);
    if (const Frame* f = find(addr >> kFrameShift)) {
      std::memcpy(dst, f->bytes.data() + off, n);
    } else {
      std::memset(dst, 0, n);
    }
    addr += n;
    dst += n;
    len -= n;
  }
}

void PhysicalMemory::copy_in(uint64_t addr, const uint8_t* src, uint64_t len) {
  while (len > 0) {
    const uint64_t off = addr & (kFrameBytes - 1);
    const uint64_t n = std::min(len, kFrameBytes - off);
    Frame* f = find(addr >> kFrameShift);
    // Writing zeros into an untouched frame changes nothing: keep it sparse.
    if (!f && !std::all_of(src, src + n, [](uint8_t b) { return b == 0; })) {
      f = frames_.emplace(addr >> kFrameShift, std::make_unique<Frame>()).first->second.get();
      forget_frame(addr >> kFrameShift);
    }
    if (f) std::memcpy(f->bytes.data() + off, src, n);
    addr += n;
    src += n;
    len -= n;
  }
}

void PhysicalMemory::check_range(uint64_t addr, uint64_t len, const char* what) const {
  if (addr >= cfg_.size_bytes || len > cfg_.size_bytes - addr) {
    throw std::out_of_range(std::string("PhysicalMemory::") + what + ": [" + std::to_string(addr) +
                            ", +" + std::to_string(len) + ") is outside the memory of " +
                            std::to_string(cfg_.size_bytes) + " bytes");
  }
}

void PhysicalMemory::check_frame(uint64_t frame_pa, const char* what) const {
  if (frame_pa & (kFrameBytes - 1)) {
    throw std::invalid_argument(std::string("PhysicalMemory::") + what + ": address " +
                                std::to_string(frame_pa) + " is not 4 KiB aligned");
  }
  check_range(frame_pa, kFrameBytes, what);
}

// ----------------------------------------------------------------------------
// Backdoor

void PhysicalMemory::read(uint64_t addr, void* dst, uint64_t len) const {
  if (len == 0) return;
  check_range(addr, len, "read");
  copy_out(addr, static_cast<uint8_t*>(dst), len);
}

void PhysicalMemory::write(uint64_t addr, const void* src, uint64_t len) {
  if (len == 0) return;
  check_range(addr, len, "write");
  copy_in(addr, static_cast<const uint8_t*>(src), len);
}

bool PhysicalMemory::within_one_frame(uint64_t addr, uint64_t len) const {
  return (addr & (kFrameBytes - 1)) <= kFrameBytes - len && addr < cfg_.size_bytes &&
         cfg_.size_bytes - addr >= len;
}

// The page-table editors and walkers read and write entries this way: the common
// case (inside one frame, inside memory) goes straight to the frame; the rest takes
// the general path with its range check.
uint64_t PhysicalMemory::read_u64(uint64_t addr) const {
  if (within_one_frame(addr, 8)) {
    const Frame* f = find(addr >> kFrameShift);
    return f ? load_le64(f->bytes.data() + (addr & (kFrameBytes - 1))) : 0;
  }
  uint8_t b[8];
  read(addr, b, sizeof b);
  return load_le64(b);
}

void PhysicalMemory::write_u64(uint64_t addr, uint64_t value) {
  uint8_t b[8];
  store_le64(b, value);
  if (within_one_frame(addr, 8)) {
    if (Frame* f = find(addr >> kFrameShift)) {
      std::memcpy(f->bytes.data() + (addr & (kFrameBytes - 1)), b, sizeof b);
      return;
    }
  }
  write(addr, b, sizeof b);  // allocates the frame unless the value is zero
}

void PhysicalMemory::fill_frame(uint64_t frame_pa, uint8_t value) {
  check_frame(frame_pa, "fill_frame");
  forget_frame(frame_pa >> kFrameShift);
  if (value == 0) {
    frames_.erase(frame_pa >> kFrameShift);
    return;
  }
  auto& slot = frames_[frame_pa >> kFrameShift];
  if (!slot) slot = std::make_unique<Frame>();
  slot->bytes.fill(value);
}

void PhysicalMemory::zero_frame(uint64_t frame_pa) {
  fill_frame(frame_pa, 0);
}

void PhysicalMemory::copy_frame(uint64_t dst_pa, uint64_t src_pa) {
  check_frame(dst_pa, "copy_frame");
  check_frame(src_pa, "copy_frame");
  if (dst_pa == src_pa) return;
  const Frame* src = find(src_pa >> kFrameShift);
  forget_frame(dst_pa >> kFrameShift);
  if (src == nullptr) {
    frames_.erase(dst_pa >> kFrameShift);
    return;
  }
  auto& slot = frames_[dst_pa >> kFrameShift];
  if (!slot) slot = std::make_unique<Frame>();
  slot->bytes = src->bytes;
}

bool PhysicalMemory::frame_allocated(uint64_t addr) const {
  return find(addr >> kFrameShift) != nullptr;
}

}  // namespace iosim
