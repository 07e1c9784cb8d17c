// RISC-V IOMMU formats: round trips of every structure, known encodings (bit positions
// of the spec), the decode() rejections (misconfigured contexts, illegal commands), the
// directory indices and the queue index arithmetic.
#include "iommu/riscv/formats.h"

#include <gtest/gtest.h>

#include "iommu/riscv/sw_interface.h"

namespace iosim::riscv {
namespace {

TEST(RiscvFormatsTest, DeviceContextRoundTripAndKnownBits) {
  DeviceContext dc;
  dc.en_ats = dc.en_pri = dc.prpr = dc.pdtv = dc.dpe = dc.sade = true;
  dc.fsc_mode = static_cast<uint8_t>(PdtpMode::kPd17);
  dc.fsc_root = 0x12345000;
  const DcWords w = dc.encode();
  // tc: V 0, EN_ATS 1, EN_PRI 2, PDTV 5, PRPR 6, SADE 8, DPE 9.
  EXPECT_EQ(w[0], 0b1101100111u);
  EXPECT_EQ(w[1], 0u);  // iohgatp Bare
  EXPECT_EQ(w[2], 0u);
  EXPECT_EQ(w[3], (2ull << 60) | 0x12345u);
  EXPECT_EQ(DeviceContext::decode(w), dc);
  EXPECT_EQ(DeviceContext::decode(dc.encode(true), true), dc);

  DeviceContext own;  // PDTV = 0: its own iosatp and PSCID (ta 39:12)
  own.pscid = 0xABCDE;
  own.fsc_mode = static_cast<uint8_t>(IosatpMode::kSv48);
  own.fsc_root = 0x7000;
  const DcWords o = own.encode();
  EXPECT_EQ(o[2], 0xABCDEull << 12);
  EXPECT_EQ(o[3], (9ull << 60) | 7u);
  EXPECT_EQ(DeviceContext::decode(o), own);
}

TEST(RiscvFormatsTest, DeviceContextChecksCauseMisconfigured) {
  auto expect_259 = [](const DcWords& w, bool ext = false) {
    try {
      DeviceContext::decode(w, ext);
      ADD_FAILURE() << "accepted";
    } catch (const TableError& e) {
      EXPECT_EQ(e.cause(), Cause::kDdtMisconfigured);
    }
  };
  DeviceContext base;
  DcWords w = base.encode();
  w[0] |= 1ull << 20;  // tc reserved
  expect_259(w);
  DeviceContext pri;
  pri.en_pri = true;  // without EN_ATS
  expect_259(pri.encode());
  DeviceContext prpr;
  prpr.en_ats = true;
  prpr.prpr = true;  // without EN_PRI
  expect_259(prpr.encode());
  DeviceContext dpe;
  dpe.dpe = true;  // without PDTV
  expect_259(dpe.encode());
  DeviceContext sv39;
  sv39.fsc_mode = static_cast<uint8_t>(IosatpMode::kSv39);
  expect_259(sv39.encode());
  DeviceContext stage2;
  stage2.iohgatp_mode = 8;  // Sv39x4: no second stage here
  expect_259(stage2.encode());
  DcWords msi = base.encode(true);
  msi[4] = 1ull << 60;  // msiptp.MODE Flat
  expect_259(msi, true);
  DcWords invalid = base.encode();
  invalid[0] = 0;
  EXPECT_FALSE(DeviceContext::decode(invalid).valid);
}

TEST(RiscvFormatsTest, ProcessContextAndDirectoryEntries) {
  ProcessContext pc;
  pc.ens = true;
  pc.pscid = 0x12345;
  pc.root = 0xABC000;
  const PcWords w = pc.encode();
  EXPECT_EQ(w[0], 0b011u | (0x12345ull << 12));
  EXPECT_EQ(w[1], (9ull << 60) | 0xABCu);
  EXPECT_EQ(ProcessContext::decode(w), pc);
  PcWords bad = w;
  bad[1] = (10ull << 60) | 0xABC;  // Sv57
  try {
    ProcessContext::decode(bad);
    ADD_FAILURE() << "accepted Sv57";
  } catch (const TableError& e) {
    EXPECT_EQ(e.cause(), Cause::kPdtMisconfigured);
  }
  bad = w;
  bad[0] |= 1ull << 40;  // ta reserved
  EXPECT_THROW(ProcessContext::decode(bad), TableError);

  const DirEntry d{true, 0x5000};
  EXPECT_EQ(d.encode(), (5ull << 10) | 1u);  // PPN in 53:10
  EXPECT_EQ(DirEntry::decode(d.encode(), Cause::kDdtMisconfigured), d);
  EXPECT_FALSE(DirEntry::decode(0x5000ull << 10, Cause::kDdtMisconfigured).valid);
  try {
    DirEntry::decode(d.encode() | 0x2, Cause::kPdtMisconfigured);
    ADD_FAILURE() << "accepted a reserved bit";
  } catch (const TableError& e) {
    EXPECT_EQ(e.cause(), Cause::kPdtMisconfigured);
  }
}

TEST(RiscvFormatsTest, DirectoryIndices) {
  const uint32_t did = 0xAB'CD'EF;
  EXPECT_EQ(ddi(did, 0), 0x6Fu);  // 6:0
  EXPECT_EQ(ddi(did, 1), (did >> 7) & 0x1FF);
  EXPECT_EQ(ddi(did, 2), 0xABu);        // 23:16
  EXPECT_EQ(ddi(did, 0, true), 0x2Fu);  // 5:0
  EXPECT_EQ(ddi(did, 1, true), (did >> 6) & 0x1FF);
  EXPECT_EQ(ddi(did, 2, true), did >> 15);
  const uint32_t pid = 0xF'AB'CD;
  EXPECT_EQ(pdi(pid, 0), 0xCDu);
  EXPECT_EQ(pdi(pid, 1), (pid >> 8) & 0x1FF);
  EXPECT_EQ(pdi(pid, 2), 0x7u);
}

TEST(RiscvFormatsTest, CommandKnownEncodings) {
  IofenceC f;
  f.av = f.wsi = true;
  f.data = 0xC0FFEE;
  f.addr = 0x1000;
  EXPECT_EQ(encode_command(f),
            (CmdWords{0x2 | (1ull << 10) | (1ull << 11) | (0xC0FFEEull << 32), 0x400}));
  IotinvalVma v;
  v.av = v.pscv = true;
  v.pscid = 5;
  v.addr = 0x40001000;
  EXPECT_EQ(encode_command(v),
            (CmdWords{0x1 | (1ull << 10) | (5ull << 12) | (1ull << 32), 0x40001ull << 10}));
  EXPECT_EQ(encode_command(IodirInvalDdt{true, 0x100}),
            (CmdWords{0x3 | (1ull << 33) | (0x100ull << 40), 0}));
  EXPECT_EQ(encode_command(IodirInvalPdt{0x100, 7}),
            (CmdWords{0x3 | (1ull << 7) | (7ull << 12) | (1ull << 33) | (0x100ull << 40), 0}));
  AtsPrgr p;
  p.target.rid = 0x0200;
  p.target.pv = true;
  p.target.pid = 4;
  p.payload = PrgrPayload{0x1FF, 0xF, 0x0200};
  EXPECT_EQ(encode_command(p),
            (CmdWords{0x4 | (1ull << 7) | (4ull << 12) | (1ull << 32) | (0x0200ull << 40),
                      (0x1FFull << 32) | (0xFull << 44) | (0x0200ull << 48)}));
  AtsInval i;
  i.target.rid = 0x0100;
  i.target.dsv = true;
  i.target.dseg = 3;
  i.payload = AtsInvalPayload{0x7fff'ffff'ffff'f000ull, true, true};  // whole space, G
  EXPECT_EQ(encode_command(i), (CmdWords{0x4 | (1ull << 33) | (0x0100ull << 40) | (3ull << 56),
                                         0x7fff'ffff'ffff'f801ull}));
}

TEST(RiscvFormatsTest, EveryCommandRoundTripsAndNamesItsKind) {
  IotinvalVma vma;
  vma.av = true;
  vma.addr = 0x7000;
  IotinvalGvma gvma;
  gvma.gv = true;
  gvma.gscid = 9;
  IofenceC fence;
  fence.pr = fence.pw = true;
  AtsInval inv;
  inv.target.rid = 0x42;
  inv.payload.address = 0x9000;
  AtsPrgr prgr;
  prgr.payload.prgi = 3;
  const std::vector<std::pair<Command, const char*>> cmds = {
      {vma, "iotinval_vma"},
      {gvma, "iotinval_gvma"},
      {fence, "iofence_c"},
      {IodirInvalDdt{false, 0}, "iodir_inval_ddt"},
      {IodirInvalPdt{1, 2}, "iodir_inval_pdt"},
      {inv, "ats_inval"},
      {prgr, "ats_prgr"}};
  for (const auto& [c, name] : cmds) {
    SCOPED_TRACE(name);
    EXPECT_EQ(decode_command(encode_command(c)), c);
    EXPECT_STREQ(kind_name(c), name);
  }
}

TEST(RiscvFormatsTest, IllegalCommandsAreRejected) {
  EXPECT_THROW(decode_command({0x7f, 0}), CommandError);                // opcode
  EXPECT_THROW(decode_command({0x1 | (2u << 7), 0}), CommandError);     // IOTINVAL func 2
  EXPECT_THROW(decode_command({0x1 | (1ull << 11), 0}), CommandError);  // reserved bit
  EXPECT_THROW(decode_command({0x1 | (1u << 7) | (1ull << 32), 0}), CommandError);  // GVMA PSCV
  EXPECT_THROW(decode_command({0x2 | (1u << 7), 0}), CommandError);     // IOFENCE func 1
  EXPECT_THROW(decode_command({0x2 | (1ull << 14), 0}), CommandError);  // reserved
  EXPECT_THROW(decode_command({0x3 | (5ull << 12), 0}), CommandError);  // INVAL_DDT PID
  EXPECT_THROW(decode_command({0x3 | (1u << 7), 0}), CommandError);     // INVAL_PDT DV=0
  EXPECT_THROW(decode_command({0x4 | (2u << 7), 0}), CommandError);     // ATS func 2
  EXPECT_THROW(decode_command({0x4, 0x2}), CommandError);               // ATS.INVAL payload bit 1
  EXPECT_THROW(decode_command({0x3 | (1ull << 33), 1}), CommandError);  // IODIR word 1
}

TEST(RiscvFormatsTest, FaultAndPageRequestRecords) {
  FaultRecord f;
  f.cause = 266;
  f.pid = 0x12;
  f.pv = true;
  f.priv = true;
  f.ttyp = Ttyp::kUntranslatedWrite;
  f.did = 0x0100;
  f.iotval = 0xdead000;
  const FaultWords fw = f.encode();
  EXPECT_EQ(fw[0], 266u | (0x12ull << 12) | (1ull << 32) | (1ull << 33) | (3ull << 34) |
                       (0x0100ull << 40));
  EXPECT_EQ(fw[1], 0u);
  EXPECT_EQ(fw[2], 0xdead000u);
  EXPECT_EQ(FaultRecord::decode(fw), f);

  PageRequestRecord r;
  r.did = 0x0200;
  r.pv = true;
  r.pid = 5;
  r.exec = true;
  r.write = true;
  r.last = true;
  r.prgi = 0x1AB;
  r.addr = 0x40003000;
  const PageRequestWords pw = r.encode();
  EXPECT_EQ(pw[0], (5ull << 12) | (1ull << 32) | (1ull << 34) | (0x0200ull << 40));
  EXPECT_EQ(pw[1], 0x40003000u | (0x1ABu << 3) | 0b110u);
  EXPECT_EQ(PageRequestRecord::decode(pw), r);
  EXPECT_FALSE(r.stop_marker());
  PageRequestRecord stop;
  stop.last = true;
  EXPECT_TRUE(stop.stop_marker());
}

TEST(RiscvFormatsTest, QueueIndicesKeepOneSlotFree) {
  EXPECT_TRUE(queue_empty(3, 3));
  EXPECT_TRUE(queue_full(0, 3, 2));  // 4 slots: tail 3, head 0
  EXPECT_FALSE(queue_full(0, 2, 2));
  EXPECT_EQ(queue_used(3, 1, 2), 2u);
  EXPECT_EQ(queue_next(3, 2), 0u);
  EXPECT_EQ(reg::queue_base(0x123000, 8), (0x123ull << 10) | 7u);
}

}  // namespace
}  // namespace iosim::riscv
