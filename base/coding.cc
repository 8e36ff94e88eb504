#include "base/coding.h"

namespace shoal {

void PutFixed32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void PutFixed64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void PutVarint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void PutBytes(std::string& out, std::string_view bytes) {
  PutVarint(out, bytes.size());
  out.append(bytes);
}

bool Decoder::GetFixed8(std::uint8_t& v) {
  if (failed_ || remaining() < 1) return Fail();
  v = static_cast<std::uint8_t>(in_[pos_++]);
  return true;
}

bool Decoder::GetFixed32(std::uint32_t& v) {
  if (failed_ || remaining() < 4) return Fail();
  v = LoadFixed32(reinterpret_cast<const unsigned char*>(in_.data() + pos_));
  pos_ += 4;
  return true;
}

bool Decoder::GetFixed64(std::uint64_t& v) {
  if (failed_ || remaining() < 8) return Fail();
  v = LoadFixed64(reinterpret_cast<const unsigned char*>(in_.data() + pos_));
  pos_ += 8;
  return true;
}

bool Decoder::GetVarint(std::uint64_t& v) {
  if (failed_) return false;
  v = 0;
  for (int shift = 0; shift <= 63; shift += 7) {
    if (pos_ >= in_.size()) return Fail();
    auto byte = static_cast<std::uint8_t>(in_[pos_++]);
    if (shift == 63 && byte > 1) return Fail();
    v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return Fail();
}

bool Decoder::GetVarintBounded(std::uint64_t max, std::uint64_t& v) {
  if (!GetVarint(v)) return false;
  if (v > max) return Fail();
  return true;
}

bool Decoder::GetBytes(std::string_view& v) {
  std::uint64_t n = 0;
  if (!GetVarint(n)) return false;
  if (n > remaining()) return Fail();
  v = in_.substr(pos_, n);
  pos_ += n;
  return true;
}

bool Decoder::GetBytes(std::string& v) {
  std::string_view view;
  if (!GetBytes(view)) return false;
  v.assign(view);
  return true;
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    auto b = static_cast<unsigned char>(c);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool HexDecode(std::string_view hex, std::string& out) {
  if (hex.size() % 2 != 0) return false;
  out.clear();
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexDigitValue(hex[i]);
    int lo = HexDigitValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  return true;
}

}  // namespace shoal
