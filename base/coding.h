#pragma once
// Compact binary encoding for metadata values and blob headers: little-endian
// fixed-width integers, LEB128 varints and length-prefixed byte strings.
//
// Decoder never reads past its input: every Get* returns false on truncated
// or malformed input and leaves the decoder failed, so corrupt values from
// disk turn into a Corrupt status, never a crash.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace shoal {

void PutFixed32(std::string& out, std::uint32_t v);
void PutFixed64(std::string& out, std::uint64_t v);
void PutVarint(std::string& out, std::uint64_t v);
void PutBytes(std::string& out, std::string_view bytes);  // varint length + bytes

// Little-endian loads; inline, as readers of logs call them per record.
inline std::uint32_t LoadFixed32(const unsigned char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline std::uint64_t LoadFixed64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}
  bool GetFixed8(std::uint8_t& v);
  bool GetFixed32(std::uint32_t& v);
  bool GetFixed64(std::uint64_t& v);
  bool GetVarint(std::uint64_t& v);
  // A varint that must fit in `max`.
  bool GetVarintBounded(std::uint64_t max, std::uint64_t& v);
  bool GetBytes(std::string_view& v);
  bool GetBytes(std::string& v);
  bool done() const { return pos_ == in_.size(); }
  bool failed() const { return failed_; }
  std::size_t remaining() const { return in_.size() - pos_; }

 private:
  bool Fail() {
    failed_ = true;
    return false;
  }
  std::string_view in_;
  std::size_t pos_ = 0;
  bool failed_ = false;
};

// Lower-case hex of bytes, and its inverse (false on odd length or non-hex).
std::string HexEncode(std::string_view bytes);
bool HexDecode(std::string_view hex, std::string& out);
// The value of one hex digit (either case), or -1 for any other character.
int HexDigitValue(char c);

}  // namespace shoal
