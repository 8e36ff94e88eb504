#include "tiers/blob_format.h"

#include "base/coding.h"

namespace shoal::tiers::format {

std::size_t HeaderBytes(std::uint8_t format) {
  return format == kLegacyFormatVersion ? kLegacyHeaderBytes : kHeaderBytes;
}

std::size_t SealOverhead(std::uint8_t format) {
  return format == kDualLayerFormatVersion ? 2 * crypto::kTagBytes : crypto::kTagBytes;
}

std::string EncodeHeader(const Header& header) {
  std::string out;
  out.reserve(HeaderBytes(header.format));
  out.append(kHeaderMagic);
  out.push_back(static_cast<char>(header.format));
  out.push_back(static_cast<char>(header.level));
  PutFixed32(out, header.chunk_size);
  out.append(header.id);
  if (header.format == kLegacyFormatVersion) out.append(header.wrapped_key);
  return out;
}

Status DecodeHeader(std::string_view bytes, Header& header) {
  if (bytes.size() != kHeaderBytes) return Corrupt("blob header truncated");
  if (bytes.substr(0, kHeaderMagic.size()) != kHeaderMagic) {
    return Corrupt("not a blob file (bad header magic)");
  }
  Decoder d(bytes.substr(kHeaderMagic.size()));
  if (!d.GetFixed8(header.format) || !d.GetFixed8(header.level) ||
      !d.GetFixed32(header.chunk_size)) {
    return Corrupt("blob header truncated");
  }
  if (header.format != kFormatVersion && header.format != kLegacyFormatVersion &&
      header.format != kDualLayerFormatVersion) {
    return Corrupt("unknown blob format " + std::to_string(header.format));
  }
  if (header.chunk_size == 0 || header.chunk_size > kMaxChunkSize) {
    return Corrupt("blob chunk size out of range: " + std::to_string(header.chunk_size));
  }
  std::size_t pos = kHeaderMagic.size() + 1 + 1 + 4;
  header.id.assign(bytes.substr(pos, kBlobIdBytes));
  header.wrapped_key.clear();
  return Status::Ok();
}

std::string EncodeIndex(const Index& index) {
  std::string out;
  out.reserve(index.chunks.size() * kIndexEntryBytes + kIndexTrailerBytes);
  for (const ChunkEntry& c : index.chunks) {
    PutFixed64(out, c.offset);
    PutFixed32(out, c.stored_len);
    PutFixed32(out, c.plain_len);
    out.push_back(c.raw ? '\1' : '\0');
  }
  PutFixed64(out, index.total_size);
  out.append(index.md5);
  return out;
}

Status DecodeIndex(std::string_view bytes, std::uint32_t chunk_size, std::uint64_t header_bytes,
                   std::uint64_t index_offset, std::size_t overhead, Index& index) {
  if (bytes.size() < kIndexTrailerBytes ||
      (bytes.size() - kIndexTrailerBytes) % kIndexEntryBytes != 0) {
    return Corrupt("blob index has a bad length");
  }
  const std::size_t n = (bytes.size() - kIndexTrailerBytes) / kIndexEntryBytes;
  index.chunks.clear();
  index.chunks.reserve(n);
  Decoder d(bytes);
  std::uint64_t expect_offset = header_bytes;
  std::uint64_t plain_sum = 0;
  // The writer stores zstd output only when shorter than the plaintext.
  const std::uint64_t max_stored = std::uint64_t{chunk_size} + overhead;
  for (std::size_t i = 0; i < n; ++i) {
    ChunkEntry c;
    std::uint8_t raw = 0;
    if (!d.GetFixed64(c.offset) || !d.GetFixed32(c.stored_len) || !d.GetFixed32(c.plain_len) ||
        !d.GetFixed8(raw)) {
      return Corrupt("blob index truncated");
    }
    const bool last = i + 1 == n;
    if (raw > 1 || c.offset != expect_offset || c.stored_len < overhead ||
        c.stored_len > max_stored || c.plain_len == 0 || c.plain_len > chunk_size ||
        (!last && c.plain_len != chunk_size) ||
        (raw == 1 && c.stored_len != std::uint64_t{c.plain_len} + overhead) ||
        (raw == 0 && c.stored_len >= std::uint64_t{c.plain_len} + overhead)) {
      return Corrupt("blob index entry " + std::to_string(i) + " is inconsistent");
    }
    c.raw = raw == 1;
    expect_offset += c.stored_len;
    plain_sum += c.plain_len;
    index.chunks.push_back(c);
  }
  if (!d.GetFixed64(index.total_size) || d.remaining() != 16) {
    return Corrupt("blob index truncated");
  }
  index.md5.assign(bytes.substr(bytes.size() - 16));
  if (expect_offset != index_offset) return Corrupt("blob chunks do not reach the index");
  if (plain_sum != index.total_size) return Corrupt("blob chunk sizes do not add up");
  return Status::Ok();
}

std::string EncodeFooter(const Footer& footer) {
  std::string out;
  out.reserve(kFooterBytes);
  PutFixed64(out, footer.index_offset);
  PutFixed32(out, footer.index_len);
  out.append(kFooterMagic);
  return out;
}

Status DecodeFooter(std::string_view bytes, std::uint64_t file_size, Footer& footer) {
  if (bytes.size() != kFooterBytes) return Corrupt("blob footer truncated");
  if (bytes.substr(12) != kFooterMagic) {
    return Corrupt("blob footer magic missing (truncated or damaged file)");
  }
  Decoder d(bytes);
  if (!d.GetFixed64(footer.index_offset) || !d.GetFixed32(footer.index_len)) {
    return Corrupt("blob footer truncated");
  }
  // file_size >= kHeaderBytes + kFooterBytes is checked by the caller; the
  // sums below cannot overflow because index_offset is compared first.
  if (footer.index_offset < kHeaderBytes || footer.index_offset > file_size ||
      footer.index_len < kIndexTrailerBytes + crypto::kTagBytes ||
      footer.index_offset + footer.index_len + kFooterBytes != file_size) {
    return Corrupt("blob footer does not match the file size");
  }
  return Status::Ok();
}

crypto::Nonce ChunkNonce(std::uint64_t chunk) {
  crypto::Nonce nonce{};
  for (std::size_t i = 0; i < 8; ++i) {
    nonce[i] = static_cast<unsigned char>((chunk >> (8 * i)) & 0xff);
  }
  return nonce;
}

crypto::Nonce IndexNonce() {
  return ChunkNonce(~std::uint64_t{0});
}

std::string ChunkAad(std::string_view id, std::uint64_t chunk, bool final, bool raw) {
  std::string aad;
  aad.reserve(id.size() + 8 + 2);
  aad.append(id);
  PutFixed64(aad, chunk);
  aad.push_back(final ? '\1' : '\0');
  aad.push_back(raw ? '\1' : '\0');
  return aad;
}

std::string OuterAad(std::string_view inner_aad) {
  std::string aad = "outer layer";
  aad.append(inner_aad);
  return aad;
}

}  // namespace shoal::tiers::format
