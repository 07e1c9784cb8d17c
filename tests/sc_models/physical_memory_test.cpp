#include "sc_models/memory/physical_memory.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "common/tlm_bench.h"
#include "sc_models/config/params.h"

namespace iosim {
namespace {

using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;

using test::run_thread;
using test::StubInitiator;

constexpr uint64_t kGiB = uint64_t{1} << 30;

// Two channels, 64-byte interleave, 16 GB/s: a 64-byte burst takes exactly 4 ns.
PhysicalMemoryConfig small_config() {
  PhysicalMemoryConfig c;
  c.size_bytes = 1 * kGiB;
  c.access_latency_ns = 50;
  c.channels = 2;
  c.interleave_bytes = 64;
  c.channel_bandwidth_gb_per_s = 16;
  return c;
}

sc_time burst(const PhysicalMemoryConfig& c, uint64_t bytes) {
  return ns(static_cast<double>(bytes) / c.channel_bandwidth_gb_per_s);
}

// Issues a read at the current time with a zero incoming delay; returns the delay.
sc_time read_delay(StubInitiator& init, uint64_t addr, unsigned len) {
  std::vector<uint8_t> buf(len);
  sc_time d = SC_ZERO_TIME;
  EXPECT_EQ(init.transport(tlm::TLM_READ_COMMAND, addr, buf.data(), len, d), tlm::TLM_OK_RESPONSE);
  return d;
}

TEST(PhysicalMemory, ThreeFramesWrittenAcross64GiBAllocateThreeFrames) {
  PhysicalMemoryConfig cfg;
  cfg.size_bytes = 64 * kGiB;
  PhysicalMemory mem("mem", cfg);
  EXPECT_EQ(mem.frames_allocated(), 0u);

  const uint64_t a = 0, b = 37 * kGiB + 0x1234, c = 64 * kGiB - 8;
  mem.write_u64(a, 0x1111);
  mem.write_u64(b, 0x2222);
  mem.write_u64(c, 0x3333);
  EXPECT_EQ(mem.frames_allocated(), 3u);
  EXPECT_EQ(mem.read_u64(a), 0x1111u);
  EXPECT_EQ(mem.read_u64(b), 0x2222u);
  EXPECT_EQ(mem.read_u64(c), 0x3333u);

  // Unwritten memory reads as zeros and reading does not allocate.
  std::vector<uint8_t> buf(3 * PhysicalMemory::kFrameBytes, 0xee);
  mem.read(12 * kGiB + 100, buf.data(), buf.size());
  for (uint8_t x : buf) ASSERT_EQ(x, 0);
  EXPECT_EQ(mem.read_u64(b + 4096), 0u);
  EXPECT_EQ(mem.frames_allocated(), 3u);

  // Writing zeros to an untouched frame changes nothing and stays sparse.
  std::vector<uint8_t> zeros(100, 0);
  mem.write(5 * kGiB, zeros.data(), zeros.size());
  EXPECT_EQ(mem.frames_allocated(), 3u);
  EXPECT_FALSE(mem.frame_allocated(5 * kGiB));

  // A write crossing a frame boundary allocates both frames.
  const uint8_t data[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  mem.write(2 * kGiB + 4096 - 8, data, sizeof data);
  EXPECT_EQ(mem.frames_allocated(), 5u);
  uint8_t back[16] = {};
  mem.read(2 * kGiB + 4096 - 8, back, sizeof back);
  EXPECT_EQ(std::memcmp(back, data, sizeof data), 0);
}

TEST(PhysicalMemory, BackdoorFrameOperationsAndErrors) {
  PhysicalMemory mem("mem", small_config());
  const uint64_t f1 = 0x10000, f2 = 0x20000, f3 = 0x30000;

  mem.fill_frame(f1, 0xab);
  EXPECT_EQ(mem.frames_allocated(), 1u);
  EXPECT_EQ(mem.read_u64(f1 + 4088), 0xababababababababull);

  mem.copy_frame(f2, f1);
  EXPECT_EQ(mem.frames_allocated(), 2u);
  EXPECT_EQ(mem.read_u64(f2 + 8), 0xababababababababull);

  // Copying an untouched frame zeroes (releases) the destination.
  mem.copy_frame(f2, f3);
  EXPECT_EQ(mem.read_u64(f2 + 8), 0u);
  EXPECT_EQ(mem.frames_allocated(), 1u);

  mem.zero_frame(f1);
  EXPECT_EQ(mem.read_u64(f1), 0u);
  EXPECT_EQ(mem.frames_allocated(), 0u);

  // read_u64/write_u64 are little-endian and may be unaligned.
  mem.write_u64(f1 + 3, 0x0807060504030201ull);
  uint8_t b[8];
  mem.read(f1 + 3, b, 8);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(b[i], i + 1);

  const uint64_t size = mem.size_bytes();
  EXPECT_THROW(mem.read_u64(size - 4), std::out_of_range);
  EXPECT_THROW(mem.write_u64(size, 1), std::out_of_range);
  EXPECT_THROW(mem.fill_frame(f1 + 8, 1), std::invalid_argument);
  EXPECT_THROW(mem.copy_frame(size, f1), std::out_of_range);
  EXPECT_NO_THROW(mem.read_u64(size - 8));
}

// Frames are found through a memo of recent lookups, absent frames included. Every
// way a frame comes or goes must be seen by the next read of a frame the memo holds,
// also for two frames sharing a memo slot (frame numbers 256 apart).
TEST(PhysicalMemory, FrameLookupsSeeEveryFrameCreatedOrReleased) {
  PhysicalMemory mem("mem", small_config());
  const uint64_t a = 0x40000, b = a + 256 * PhysicalMemory::kFrameBytes;  // one memo slot
  const uint64_t c = 0x80000;
  EXPECT_EQ(mem.read_u64(a), 0u);  // remembered as absent
  EXPECT_FALSE(mem.frame_allocated(a));
  mem.write_u64(a, 0x1111);  // created by a backdoor write
  EXPECT_EQ(mem.read_u64(a), 0x1111u);
  EXPECT_TRUE(mem.frame_allocated(a));
  EXPECT_EQ(mem.read_u64(b), 0u);  // takes the slot: absent
  const uint8_t two[2] = {0x22, 0x22};
  mem.write(b + 8, two, 2);  // created by a byte write
  EXPECT_EQ(mem.read_u64(b + 8), 0x2222u);
  EXPECT_EQ(mem.read_u64(a), 0x1111u);  // back in the slot
  mem.zero_frame(a);                    // released
  EXPECT_EQ(mem.read_u64(a), 0u);
  EXPECT_FALSE(mem.frame_allocated(a));
  mem.fill_frame(a, 0x33);  // created by a fill
  EXPECT_EQ(mem.read_u64(a), 0x3333333333333333ull);
  EXPECT_EQ(mem.read_u64(c), 0u);
  mem.copy_frame(c, a);  // created by a copy
  EXPECT_EQ(mem.read_u64(c + 16), 0x3333333333333333ull);
  mem.copy_frame(c, b + PhysicalMemory::kFrameBytes);  // released by copying an absent frame
  EXPECT_EQ(mem.read_u64(c + 16), 0u);
  EXPECT_EQ(mem.frames_allocated(), 2u);

  // The timed path reads and writes through the same lookups.
  StubInitiator init("init");
  init.socket.bind(mem.socket);
  run_thread([&] {
    const uint64_t d = 0xc0000;
    uint8_t buf[8] = {};
    sc_time t = SC_ZERO_TIME;
    init.transport(tlm::TLM_READ_COMMAND, d, buf, 8, t);  // absent
    EXPECT_EQ(buf[0], 0);
    buf[0] = 0x44;
    init.transport(tlm::TLM_WRITE_COMMAND, d, buf, 8, t);  // created
    buf[0] = 0;
    init.transport(tlm::TLM_READ_COMMAND, d, buf, 8, t);
    EXPECT_EQ(buf[0], 0x44);
  });
  EXPECT_EQ(mem.read_u64(0xc0000), 0x44u);
  EXPECT_EQ(mem.frames_allocated(), 3u);
}

// read_u64 / write_u64 take a shortcut inside one frame; across frames and at the
// end of memory they take the general path. Both must agree with read() / write().
TEST(PhysicalMemory, U64BackdoorAgreesWithByteAccessesEverywhere) {
  PhysicalMemory mem("mem", small_config());
  const uint64_t f = 5 * 4096;
  mem.write_u64(f + 16, 0);  // zero into an untouched frame: stays sparse
  EXPECT_EQ(mem.frames_allocated(), 0u);
  EXPECT_EQ(mem.read_u64(f + 16), 0u);
  for (uint64_t off : {uint64_t{0}, uint64_t{8}, uint64_t{13}, uint64_t{4088}, uint64_t{4092}}) {
    const uint64_t v = 0x0102030405060708ull * (off + 1);
    mem.write_u64(f + off, v);
    EXPECT_EQ(mem.read_u64(f + off), v) << off;
    uint8_t b[8];
    mem.read(f + off, b, 8);
    for (int i = 0; i < 8; ++i) EXPECT_EQ(b[i], static_cast<uint8_t>(v >> (8 * i))) << off;
  }
  EXPECT_EQ(mem.frames_allocated(), 2u);  // the write at 4092 reached into frame f + 4096
  mem.write_u64(f + 4088, 0);             // into an allocated frame: stored
  EXPECT_EQ(mem.read_u64(f + 4088), 0u);
  // Bytes 4092..4095 now zero, 4096..4099 still the high half of the write at 4092.
  EXPECT_EQ(mem.read_u64(f + 4092), (0x0102030405060708ull * 4093) >> 32 << 32);
  // The last 8 bytes of memory, and past them.
  const uint64_t end = small_config().size_bytes;
  mem.write_u64(end - 8, 0xfeedfacecafebeefull);
  EXPECT_EQ(mem.read_u64(end - 8), 0xfeedfacecafebeefull);
  EXPECT_THROW(mem.read_u64(end - 4), std::out_of_range);
  EXPECT_THROW(mem.write_u64(end - 4, 1), std::out_of_range);
  EXPECT_THROW(mem.read_u64(end), std::out_of_range);
  EXPECT_THROW(mem.read_u64(~0ull - 3), std::out_of_range);
}

TEST(PhysicalMemory, ConfigIsListedAndValidated) {
  PhysicalMemoryConfig cfg;
  auto ps = list_params(cfg, "memory.");
  ASSERT_EQ(ps.size(), 5u);
  EXPECT_EQ(ps[0].name, "memory.size_bytes");
  EXPECT_EQ(ps[0].default_value, std::to_string(64 * kGiB));
  EXPECT_EQ(ps[1].name, "memory.access_latency_ns");
  EXPECT_TRUE(assign_param(cfg, "channels", "2"));
  EXPECT_EQ(cfg.channels, 2u);

  auto bad = [](auto mutate) {
    PhysicalMemoryConfig c;
    mutate(c);
    return c;
  };
  EXPECT_THROW(bad([](auto& c) { c.size_bytes = 4095; }).validate(), ParamError);
  EXPECT_THROW(bad([](auto& c) { c.channels = 0; }).validate(), ParamError);
  EXPECT_THROW(bad([](auto& c) { c.interleave_bytes = 0; }).validate(), ParamError);
  EXPECT_THROW(bad([](auto& c) { c.channel_bandwidth_gb_per_s = 0; }).validate(), ParamError);
  EXPECT_THROW(bad([](auto& c) { c.access_latency_ns = -1; }).validate(), ParamError);
  try {
    PhysicalMemory m("m", bad([](auto& c) { c.channels = 0; }));
    FAIL() << "expected ParamError";
  } catch (const ParamError& e) {
    EXPECT_NE(std::string(e.what()).find("channels"), std::string::npos);
  }
}

TEST(PhysicalMemory, BackToBackAccessesOnOneChannelGrowByTheBurstTime) {
  const PhysicalMemoryConfig cfg = small_config();
  PhysicalMemory mem("mem", cfg);
  StubInitiator init("init");
  init.socket.bind(mem.socket);
  const sc_time lat = ns(cfg.access_latency_ns);
  const sc_time t64 = burst(cfg, 64);
  ASSERT_EQ(t64, ns(4));

  std::vector<sc_time> got;
  sc_time idle_again, with_incoming_delay, after_wait_start;
  run_thread([&] {
    // Four reads issued at t = 0 to addresses 0, 128, 256, 384: all on channel 0.
    for (uint64_t i = 0; i < 4; ++i) got.push_back(read_delay(init, i * 128, 64));
    sc_core::wait(ns(1000));
    after_wait_start = sc_core::sc_time_stamp();
    idle_again = read_delay(init, 0, 64);
    // The incoming annotated delay sets the arrival time and is kept.
    sc_core::wait(ns(1000));
    sc_time d = ns(10);
    uint8_t buf[64];
    init.transport(tlm::TLM_READ_COMMAND, 128, buf, 64, d);
    with_incoming_delay = d;
  });
  ASSERT_EQ(got.size(), 4u);
  for (unsigned i = 0; i < 4; ++i) {
    EXPECT_EQ(got[i], lat + t64 * static_cast<double>(i + 1)) << "access " << i;
  }
  EXPECT_EQ(got[0], ns(54));
  EXPECT_EQ(got[3], ns(66));
  EXPECT_EQ(idle_again, lat + t64);
  EXPECT_EQ(with_incoming_delay, ns(10) + lat + t64);
  EXPECT_EQ(mem.channel(0).requests(), 6u);
  EXPECT_EQ(mem.channel(0).total_wait(), t64 * 6.0);  // 1 + 2 + 3 bursts of queueing
  EXPECT_EQ(mem.channel(1).requests(), 0u);
  EXPECT_EQ(mem.reads(), 6u);
  EXPECT_EQ(mem.bytes(), 6u * 64);
}

TEST(PhysicalMemory, TwoChannelsServeInterleavedAddressesInParallel) {
  const PhysicalMemoryConfig cfg = small_config();
  PhysicalMemory mem("mem", cfg);
  PhysicalMemory wide("wide", cfg);
  StubInitiator init("init"), init_wide("init_wide");
  init.socket.bind(mem.socket);
  init_wide.socket.bind(wide.socket);
  const sc_time lat = ns(cfg.access_latency_ns);

  sc_time d0, d1, d2, d3, spanning, spanning_next, odd;
  run_thread([&] {
    d0 = read_delay(init, 0, 64);    // channel 0
    d1 = read_delay(init, 64, 64);   // channel 1, in parallel
    d2 = read_delay(init, 128, 64);  // channel 0, behind d0
    d3 = read_delay(init, 192, 64);  // channel 1, behind d1
    // 256 bytes at 0 put 128 bytes on each channel: both bursts run in parallel.
    spanning = read_delay(init_wide, 0, 256);
    // The next access on channel 1 queues behind that 128-byte burst.
    spanning_next = read_delay(init_wide, 64, 64);
    // 32 bytes at 48 straddle the interleave boundary: 16 bytes on each channel,
    // each queued behind the bursts above.
    odd = read_delay(init_wide, 48, 32);
  });
  EXPECT_EQ(mem.channel_of(0), 0u);
  EXPECT_EQ(mem.channel_of(64), 1u);
  EXPECT_EQ(mem.channel_of(130), 0u);
  EXPECT_EQ(d0, lat + burst(cfg, 64));
  EXPECT_EQ(d1, lat + burst(cfg, 64));
  EXPECT_EQ(d2, lat + burst(cfg, 128));
  EXPECT_EQ(d3, lat + burst(cfg, 128));
  EXPECT_EQ(mem.channel(0).requests(), 2u);
  EXPECT_EQ(mem.channel(1).requests(), 2u);

  EXPECT_EQ(spanning, lat + burst(cfg, 128));
  EXPECT_EQ(spanning, ns(58));
  EXPECT_EQ(spanning_next, lat + burst(cfg, 128 + 64));
  // Channel 0 is busy until 8 ns, channel 1 until 12 ns; the 16-byte bursts finish
  // at 9 ns and 13 ns.
  EXPECT_EQ(odd, lat + burst(cfg, 128 + 64 + 16));
}

TEST(PhysicalMemory, TimedWritesAndReadsMoveDataAcrossFrames) {
  PhysicalMemory mem("mem", small_config());
  StubInitiator init("init");
  init.socket.bind(mem.socket);
  uint8_t out[24], in[24] = {};
  for (unsigned i = 0; i < sizeof out; ++i) out[i] = static_cast<uint8_t>(0xa0 + i);
  const uint64_t addr = 3 * 4096 - 10;  // crosses into the next frame
  tlm::tlm_response_status ws = tlm::TLM_INCOMPLETE_RESPONSE, rs = ws;
  sc_time t_after_write;
  run_thread([&] {
    ws = init.write(addr, out, sizeof out);
    t_after_write = sc_core::sc_time_stamp();
    rs = init.read(addr, in, sizeof in);
  });
  EXPECT_EQ(ws, tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(rs, tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(std::memcmp(in, out, sizeof in), 0);
  EXPECT_EQ(mem.frames_allocated(), 2u);
  uint8_t check[24];
  mem.read(addr, check, sizeof check);
  EXPECT_EQ(std::memcmp(check, out, sizeof check), 0);
  EXPECT_EQ(mem.writes(), 1u);
  EXPECT_EQ(mem.reads(), 1u);
  EXPECT_EQ(mem.bytes(), 48u);
  // 24 bytes at 12278: bytes 12278..12287 (10) on channel 1 (unit 191), 14 on
  // channel 0 (unit 192); the longer burst decides.
  EXPECT_EQ(t_after_write, ns(50) + burst(small_config(), 14));
}

TEST(PhysicalMemory, BadTransactionsGetErrorResponsesWithoutTimeOrData) {
  PhysicalMemory mem("mem", small_config());
  StubInitiator init("init");
  init.socket.bind(mem.socket);
  const uint64_t size = mem.size_bytes();
  tlm::tlm_response_status past_end{}, at_end{}, last_ok{}, byte_en{}, streaming{}, empty{};
  sc_time past_end_delay = ns(1);
  run_thread([&] {
    uint8_t buf[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    past_end = init.transport(tlm::TLM_WRITE_COMMAND, size - 8, buf, 16, past_end_delay);
    sc_time d = SC_ZERO_TIME;
    at_end = init.transport(tlm::TLM_READ_COMMAND, size, buf, 8, d);
    last_ok = init.transport(tlm::TLM_READ_COMMAND, size - 16, buf, 16, d);

    uint8_t be[8] = {0xff, 0, 0xff, 0, 0xff, 0, 0xff, 0};
    tlm::tlm_generic_payload gp;
    gp.set_command(tlm::TLM_WRITE_COMMAND);
    gp.set_address(0);
    gp.set_data_ptr(buf);
    gp.set_data_length(8);
    gp.set_streaming_width(8);
    gp.set_byte_enable_ptr(be);
    gp.set_byte_enable_length(8);
    sc_time d2 = SC_ZERO_TIME;
    init.socket->b_transport(gp, d2);
    byte_en = gp.get_response_status();

    gp.set_byte_enable_ptr(nullptr);
    gp.set_byte_enable_length(0);
    gp.set_streaming_width(4);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    init.socket->b_transport(gp, d2);
    streaming = gp.get_response_status();

    gp.set_streaming_width(8);
    gp.set_data_length(0);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    init.socket->b_transport(gp, d2);
    empty = gp.get_response_status();
    EXPECT_EQ(d2, SC_ZERO_TIME);
  });
  EXPECT_EQ(past_end, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(past_end_delay, ns(1));  // no time added
  EXPECT_EQ(at_end, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(last_ok, tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(byte_en, tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
  EXPECT_EQ(streaming, tlm::TLM_BURST_ERROR_RESPONSE);
  EXPECT_EQ(empty, tlm::TLM_GENERIC_ERROR_RESPONSE);
  EXPECT_EQ(mem.frames_allocated(), 0u);  // rejected writes stored nothing
  EXPECT_EQ(mem.writes(), 0u);
  EXPECT_EQ(mem.reads(), 1u);
}

TEST(PhysicalMemory, DebugTransportTakesNoTimeAndStopsAtTheEnd) {
  PhysicalMemory mem("mem", small_config());
  StubInitiator init("init");
  init.socket.bind(mem.socket);
  const uint64_t size = mem.size_bytes();
  unsigned wrote = 0, read = 0, clamped = 0, outside = 0;
  tlm::tlm_response_status outside_status{};
  uint8_t in[8] = {};
  sc_time t_end;
  run_thread([&] {
    uint8_t out[8] = {9, 8, 7, 6, 5, 4, 3, 2};
    tlm::tlm_generic_payload gp;
    gp.set_command(tlm::TLM_WRITE_COMMAND);
    gp.set_address(0x5000 - 4);
    gp.set_data_ptr(out);
    gp.set_data_length(8);
    wrote = init.socket->transport_dbg(gp);
    gp.set_command(tlm::TLM_READ_COMMAND);
    gp.set_data_ptr(in);
    read = init.socket->transport_dbg(gp);
    uint8_t tail[8] = {};
    gp.set_data_ptr(tail);
    gp.set_address(size - 3);
    clamped = init.socket->transport_dbg(gp);
    gp.set_address(size);
    outside = init.socket->transport_dbg(gp);
    outside_status = gp.get_response_status();
    t_end = sc_core::sc_time_stamp();
  });
  EXPECT_EQ(wrote, 8u);
  EXPECT_EQ(read, 8u);
  EXPECT_EQ(in[0], 9);
  EXPECT_EQ(in[7], 2);
  EXPECT_EQ(mem.read_u64(0x5000 - 4), 0x0203040506070809ull);
  EXPECT_EQ(clamped, 3u);
  EXPECT_EQ(outside, 0u);
  EXPECT_EQ(outside_status, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(t_end, SC_ZERO_TIME);
  EXPECT_EQ(mem.reads() + mem.writes() + mem.bytes(), 0u);
  EXPECT_EQ(mem.channel(0).requests() + mem.channel(1).requests(), 0u);
}

TEST(PhysicalMemory, DefaultConfigReadCostsLatencyPlusOneBurst) {
  PhysicalMemoryConfig cfg;
  PhysicalMemory mem("mem", cfg);
  StubInitiator init("init");
  init.socket.bind(mem.socket);
  sc_time d;
  run_thread([&] { d = read_delay(init, 4096, 64); });
  EXPECT_EQ(d, ns(cfg.access_latency_ns) + burst(cfg, 64));
  EXPECT_NEAR(to_ns(d), 93.0, 0.01);
}

}  // namespace
}  // namespace iosim
