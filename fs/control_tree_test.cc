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

}  // namespace shoal::fs
