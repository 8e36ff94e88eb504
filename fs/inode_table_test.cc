#include "fs/inode_table.h"

#include <catch2/catch.hpp>

namespace shoal::fs {

TEST_CASE("inodes live while looked up, open or holding children", "[fs][inode]") {
  InodeTable t;
  auto bucket = t.Learn(10, store::kRootId, "b", true);
  auto dir = t.Learn(11, 10, "d", true);
  auto file = t.Learn(12, 11, "f", false);
  CHECK(t.PathOf(12) == "/b/d/f");

  t.Forget(11, 1);  // the directory still has a known child
  REQUIRE(t.Find(11) != nullptr);
  t.Opened(12);
  t.Forget(12, 1);  // open: stays
  REQUIRE(t.Find(12) != nullptr);
  t.Closed(12);  // last reference: goes, and takes its idle ancestors along
  CHECK(t.Find(12) == nullptr);
  CHECK(t.Find(11) == nullptr);
  CHECK(t.Find(10) != nullptr);
  CHECK(t.Find(store::kRootId) != nullptr);
}

TEST_CASE("lookups are counted exactly", "[fs][inode]") {
  InodeTable t;
  t.Learn(10, store::kRootId, "b", true);
  t.Learn(10, store::kRootId, "b", true);
  t.Forget(10, 1);
  CHECK(t.Find(10) != nullptr);
  t.Forget(10, 1);
  CHECK(t.Find(10) == nullptr);
  t.Forget(store::kRootId, 100);  // the root is pinned
  CHECK(t.Find(store::kRootId) != nullptr);
}

TEST_CASE("moves and unlinks update locations", "[fs][inode]") {
  InodeTable t;
  t.Learn(10, store::kRootId, "b", true);
  t.Learn(11, 10, "d1", true);
  t.Learn(12, 10, "d2", true);
  t.Learn(13, 11, "f", false);
  t.Moved(13, 12, "g");
  CHECK(t.PathOf(13) == "/b/d2/g");
  t.Moved(12, 11, "inner");  // renaming a directory moves what lies below
  CHECK(t.PathOf(13) == "/b/d1/inner/g");
  t.Unlinked(13);
  CHECK(t.Where(13)->unlinked);
  CHECK(t.PathOf(99) == std::nullopt);
}

}  // namespace shoal::fs
