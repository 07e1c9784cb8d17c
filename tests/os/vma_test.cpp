#include "os/vma.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace iosim {
namespace {

constexpr uint64_t kBase = VmaList::kMmapBase;
constexpr uint64_t kPage = 4096;

TEST(VmaList, FindInsertSplitAndProtect) {
  VmaList l;
  l.insert(Vma{kBase, kBase + 8 * kPage, kProtRead | kProtWrite, false});
  EXPECT_THROW(l.insert(Vma{kBase + kPage, kBase + 2 * kPage}), std::invalid_argument);
  ASSERT_NE(l.find(kBase + 3 * kPage), nullptr);
  EXPECT_EQ(l.find(kBase + 8 * kPage), nullptr);
  EXPECT_TRUE(l.covered(kBase, kBase + 8 * kPage));
  EXPECT_FALSE(l.covered(kBase, kBase + 9 * kPage));

  l.protect(kBase + 2 * kPage, kBase + 4 * kPage, kProtRead);
  ASSERT_EQ(l.size(), 3u);
  EXPECT_TRUE(l.find(kBase + kPage)->writable());
  EXPECT_FALSE(l.find(kBase + 2 * kPage)->writable());
  EXPECT_TRUE(l.find(kBase + 4 * kPage)->writable());

  const auto removed = l.remove(kBase + 3 * kPage, kBase + 5 * kPage);
  ASSERT_EQ(removed.size(), 2u);
  EXPECT_EQ(removed[0].start, kBase + 3 * kPage);
  EXPECT_EQ(removed[1].end, kBase + 5 * kPage);
  EXPECT_EQ(l.find(kBase + 4 * kPage), nullptr);
  EXPECT_EQ(l.find_free(2 * kPage), kBase + 3 * kPage);
  EXPECT_EQ(l.find_free(4 * kPage), kBase + 8 * kPage);

  const auto clipped = l.in_range(kBase + kPage, kBase + 6 * kPage);
  ASSERT_EQ(clipped.size(), 3u);
  EXPECT_EQ(clipped[0].start, kBase + kPage);
  EXPECT_EQ(clipped[2].start, kBase + 5 * kPage);
  EXPECT_EQ(clipped[2].end, kBase + 6 * kPage);
}

}  // namespace
}  // namespace iosim
