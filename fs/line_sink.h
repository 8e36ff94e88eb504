#pragma once
// LineSink: the newline framing of a write-only record file (a Kinesis
// stream's records and keys/<key>, a Firehose delivery stream's records).
// Each newline-terminated line is one record (without its newline); a last
// line without one becomes a record at the open's last close (Release: a
// shell closes duplicates of a descriptor after each redirected command, so
// the close of one duplicate cannot end the line; a failure then is only
// logged). Partial lines are kept per open, so writers in other processes
// never split or interleave each other's records. One write's complete
// lines go to PutLines as one batch.
//
// A batch stopped part way (a record too large, throttling, a deleted
// stream) keeps the records before the failing one: the write returns the
// bytes those records took (a short write; the writer retries the rest and
// meets the error), or the error when none of this write's bytes were
// taken. A record refused as too large (kRecordTooLarge) is dropped, so
// what follows it starts a new record; so is a partial line that grows past
// `max_line` bytes.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "base/mutex.h"
#include "base/status.h"
#include "fs/control_tree.h"

namespace shoal::fs {

class LineSink : public ControlSession {
 public:
  Result<std::size_t> Write(std::string_view data) final;
  // Puts the pending partial line, if any (dropped if that fails).
  Status Release() final;

 protected:
  // `max_line`: one more than the bytes of the longest line any
  // configuration of the destination accepts; `what` names the destination
  // in the error for a longer one ("a stream").
  LineSink(std::size_t max_line, std::string what);

  // How many of `lines` (from the front) the destination took, and why it
  // stopped when it did not take them all.
  struct Taken {
    std::size_t lines = 0;
    Status status;
  };
  virtual Taken PutLines(std::span<const std::string_view> lines) = 0;

 private:
  Status TooLongLine() const;

  const std::size_t max_line_;
  const std::string what_;
  Mutex mu_;
  std::string pending_ GUARDED_BY(mu_);  // the partial line written so far
};

}  // namespace shoal::fs
