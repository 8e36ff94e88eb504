#include "fs/control_tree.h"

#include <catch2/catch.hpp>

namespace shoal::fs {

TEST_CASE("control nodes are found by parent and name, in their own id range", "[fs][control]") {
  ControlTree tree;
  auto dir = tree.AddDir(1, ".shoal", {});
  REQUIRE(dir.ok());
  CHECK(IsControlId(*dir));
  auto file = tree.AddFile(*dir, "errors", {.read = [] { return Result<std::string>("x\n"); }});
  REQUIRE(file.ok());
  CHECK(tree.Lookup(1, ".shoal")->id == *dir);
  CHECK(tree.Lookup(*dir, "errors")->id == *file);
  CHECK(tree.Lookup(*dir, "nope") == nullptr);
  CHECK(tree.Find(*file)->mode() == 0444);
  CHECK(tree.AddFile(*dir, "errors", {}).status().code() == Code::kAlreadyExists);
}

TEST_CASE("file modes follow what a control file can do", "[fs][control]") {
  ControlNode document{.file = {.read = [] { return Result<std::string>(""); },
                                .replace = [](std::string_view) { return Status::Ok(); }}};
  ControlNode verb{.file = {.append = [](std::string_view) { return Status::Ok(); }}};
  CHECK(document.mode() == 0644);
  CHECK(verb.mode() == 0200);
}

TEST_CASE("resource directories create and remove through their hooks", "[fs][control]") {
  ControlTree tree;
  ControlDir resources{
      .make =
          [](ControlTree& t, NodeId parent, std::string_view name) {
            if (name == "bad") return InvalidArgument("bad name");
            auto made = t.AddDir(parent, name, {});
            if (!made.ok()) return made.status();
            return t
                .AddFile(*made, "config.json", {.read = [] { return Result<std::string>("{}"); }})
                .status();
          },
      .remove = [](ControlTree& t, NodeId parent,
                   std::string_view name) { return t.Remove(t.Lookup(parent, name)->id); }};
  auto streams = tree.AddDir(1, ".kinesis", resources);
  REQUIRE(streams.ok());

  REQUIRE(tree.Mkdir(*streams, "s1").ok());
  auto s1 = tree.Lookup(*streams, "s1");
  REQUIRE(s1 != nullptr);
  auto config = tree.Lookup(s1->id, "config.json");
  REQUIRE(config != nullptr);
  CHECK(tree.Mkdir(*streams, "s1").code() == Code::kAlreadyExists);
  CHECK(tree.Mkdir(*streams, "bad").code() == Code::kInvalidArgument);
  CHECK(tree.List(*streams).size() == 1);

  REQUIRE(tree.Rmdir(*streams, "s1").ok());
  CHECK(tree.Lookup(*streams, "s1") == nullptr);
  CHECK(tree.Find(config->id) == nullptr);
  // An open file keeps its node alive after removal.
  CHECK(config->file.read().value() == "{}");
  CHECK(tree.Rmdir(*streams, "s1").code() == Code::kNoSuchKey);
}

TEST_CASE("plain control directories refuse mkdir and rmdir", "[fs][control]") {
  ControlTree tree;
  auto dir = tree.AddDir(1, ".shoal", {});
  REQUIRE(dir.ok());
  CHECK(tree.Mkdir(*dir, "x").code() == Code::kNotPermitted);
  auto file = tree.AddFile(*dir, "f", {});
  REQUIRE(file.ok());
  CHECK(tree.Mkdir(*file, "x").code() == Code::kNotADirectory);
}

TEST_CASE("a file with inode_per_lookup gets a fresh id per lookup, until forgotten",
          "[fs][control]") {
  ControlTree tree;
  auto dir = tree.AddDir(1, "s", {});
  REQUIRE(dir.ok());
  auto sink = tree.AddFile(
      *dir, "records",
      {.append = [](std::string_view) { return Status::Ok(); }, .inode_per_lookup = true});
  REQUIRE(sink.ok());
  auto plain = tree.AddFile(*dir, "config.json", {.read = [] { return Result<std::string>(""); }});
  REQUIRE(plain.ok());

  auto first = tree.LookupForKernel(*dir, "records");
  auto second = tree.LookupForKernel(*dir, "records");
  REQUIRE(first);
  REQUIRE(second);
  CHECK(IsControlId(first->id));
  CHECK(first->id != *sink);
  CHECK(first->id != second->id);
  CHECK(tree.Find(first->id) == tree.Find(*sink));
  CHECK(tree.LookupIdCount() == 2);
  // A file without the flag is known by its own id, and not counted.
  CHECK(tree.LookupForKernel(*dir, "config.json")->id == *plain);
  tree.Forget(*plain, 1);
  CHECK(tree.Find(*plain) != nullptr);
  CHECK(tree.LookupIdCount() == 2);

  tree.Forget(first->id, 1);
  CHECK(tree.Find(first->id) == nullptr);
  CHECK(tree.Find(second->id) != nullptr);
  CHECK(tree.LookupIdCount() == 1);
  // Removing the file ends its lookup ids too; forgetting them frees them.
  REQUIRE(tree.Remove(*sink).ok());
  CHECK(tree.Find(second->id) == nullptr);
  CHECK(tree.LookupForKernel(*dir, "records") == std::nullopt);
  tree.Forget(second->id, 1);
  CHECK(tree.LookupIdCount() == 0);
}

TEST_CASE("resolved names live while the kernel remembers them, and are not listed",
          "[fs][control]") {
  ControlTree tree;
  int made = 0;
  auto keys = tree.AddDir(1, "keys", {.resolve = [&made](NodeId, std::string_view name) {
                            std::shared_ptr<ControlNode> node;
                            if (name == "bad") return node;
                            ++made;
                            node = std::make_shared<ControlNode>();
                            node->file.append = [](std::string_view) { return Status::Ok(); };
                            return node;
                          }});
  REQUIRE(keys.ok());
  CHECK(tree.LookupForKernel(*keys, "bad") == std::nullopt);
  auto k1 = tree.LookupForKernel(*keys, "k1");
  REQUIRE(k1);
  CHECK(made == 1);
  CHECK(k1->node->name == "k1");
  CHECK(k1->node->parent == *keys);
  CHECK(tree.Find(k1->id)->name == "k1");
  CHECK(tree.List(*keys).empty());
  CHECK(tree.Lookup(*keys, "k1") == nullptr);
  // Each lookup makes the name anew; a lookup forgotten frees its node.
  auto again = tree.LookupForKernel(*keys, "k1");
  REQUIRE(again);
  CHECK(made == 2);
  CHECK(again->id != k1->id);
  tree.Forget(k1->id, 1);
  CHECK(tree.Find(k1->id) == nullptr);
  CHECK(tree.Find(again->id) != nullptr);
  // Removing the directory ends the names looked up in it.
  REQUIRE(tree.Remove(*keys).ok());
  CHECK(tree.Find(again->id) == nullptr);
  tree.Forget(again->id, 1);
  CHECK(tree.LookupIdCount() == 0);
}

}  // namespace shoal::fs
