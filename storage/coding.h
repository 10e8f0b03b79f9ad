// Byte- and bit-level encoding helpers shared by the block codec and the key formats.
// Private to storage/. Every decoder checks bounds and reports failure instead of reading past
// its input, because on-disk bytes may be corrupt.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace foresight::storage {

static_assert(std::endian::native == std::endian::little, "the codecs assume a little-endian host");

inline uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t UnZigZag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

// Bits needed to hold v (0 for 0).
inline int BitWidth(uint64_t v) { return static_cast<int>(std::bit_width(v)); }

inline void PutVarint64(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

inline void PutFixed64LE(std::string* out, uint64_t v) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(v >> (8 * i));
  out->append(buf, 8);
}

inline void PutFixed32BE(std::string* out, uint32_t v) {
  char buf[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                 static_cast<char>(v)};
  out->append(buf, 4);
}

inline void PutFixed64BE(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i)));
}

inline uint32_t DecodeFixed32BE(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | u[3];
}

inline uint64_t DecodeFixed64BE(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// Signed timestamps in keys: flipping the sign bit makes big-endian byte order equal numeric
// order, so negative timestamps sort before positive ones.
inline void PutTimestampKey(std::string* out, int64_t ts) {
  PutFixed64BE(out, static_cast<uint64_t>(ts) ^ (uint64_t{1} << 63));
}
inline int64_t DecodeTimestampKey(const char* p) {
  return static_cast<int64_t>(DecodeFixed64BE(p) ^ (uint64_t{1} << 63));
}

// A bounds-checked cursor over encoded bytes.
class ByteReader {
 public:
  explicit ByteReader(std::string_view data) : data_(data) {}

  bool ReadByte(uint8_t* v) {
    if (pos_ >= data_.size()) return false;
    *v = static_cast<uint8_t>(data_[pos_++]);
    return true;
  }
  bool ReadVarint64(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift <= 63; shift += 7) {
      if (pos_ >= data_.size()) return false;
      uint64_t byte = static_cast<unsigned char>(data_[pos_++]);
      if (shift == 63 && byte > 1) return false;  // more than 64 bits
      result |= (byte & 0x7f) << shift;
      if (!(byte & 0x80)) {
        *v = result;
        return true;
      }
    }
    return false;
  }
  bool ReadFixed64LE(uint64_t* v) {
    if (data_.size() - pos_ < 8) return false;
    uint64_t r = 0;
    for (int i = 0; i < 8; ++i)
      r |= uint64_t{static_cast<unsigned char>(data_[pos_ + i])} << (8 * i);
    pos_ += 8;
    *v = r;
    return true;
  }
  bool ReadBytes(size_t n, std::string_view* out) {
    if (data_.size() - pos_ < n) return false;
    *out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  std::string_view Rest() const { return data_.substr(pos_); }
  bool empty() const { return pos_ == data_.size(); }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

// Writes bit fields least-significant bit first into little-endian bytes.
class BitWriter {
 public:
  explicit BitWriter(std::string* out) : out_(out) {}
  ~BitWriter() { Finish(); }
  BitWriter(const BitWriter&) = delete;
  BitWriter& operator=(const BitWriter&) = delete;

  // REQUIRES: 0 <= nbits <= 64 and v < 2^nbits.
  void Write(uint64_t v, int nbits) {
    if (nbits == 0) return;
    acc_ |= v << used_;
    int room = 64 - used_;
    if (nbits < room) {
      used_ += nbits;
      return;
    }
    PutFixed64LE(out_, acc_);
    acc_ = room == 64 ? 0 : (v >> room);  // shifting by 64 is undefined
    used_ = nbits - room;
  }
  // Pads to a byte boundary and writes what is buffered. Idempotent.
  void Finish() {
    for (int i = 0; i < used_; i += 8) out_->push_back(static_cast<char>(acc_ >> i));
    acc_ = 0;
    used_ = 0;
  }

 private:
  std::string* out_;
  uint64_t acc_ = 0;
  int used_ = 0;
};

class BitReader {
 public:
  explicit BitReader(std::string_view data) : data_(data) {}

  // Reads nbits (0..64). Returns false past the end of the input.
  bool Read(int nbits, uint64_t* v) {
    if (static_cast<uint64_t>(nbits) > RemainingBits()) return false;
    size_t byte = bitpos_ >> 3;
    int offset = static_cast<int>(bitpos_ & 7);
    uint64_t result;
    if (byte + 9 <= data_.size()) {
      // Fast path: one unaligned 8-byte load plus at most one more byte.
      uint64_t word;
      std::memcpy(&word, data_.data() + byte, 8);
      result = word >> offset;
      if (offset + nbits > 64) {
        result |= uint64_t{static_cast<unsigned char>(data_[byte + 8])} << (64 - offset);
      }
    } else {
      result = 0;
      for (size_t i = byte, shift = 0; i < data_.size() && shift < 72; ++i, shift += 8) {
        uint64_t b = static_cast<unsigned char>(data_[i]);
        if (shift == 0) {
          result = b >> offset;
        } else if (shift - offset < 64) {
          result |= b << (shift - offset);
        }
      }
    }
    if (nbits < 64) result &= (uint64_t{1} << nbits) - 1;
    bitpos_ += static_cast<uint64_t>(nbits);
    *v = result;
    return true;
  }
  bool ReadBit(bool* bit) {
    if (RemainingBits() == 0) return false;
    *bit = (static_cast<unsigned char>(data_[bitpos_ >> 3]) >> (bitpos_ & 7)) & 1;
    ++bitpos_;
    return true;
  }
  uint64_t RemainingBits() const { return data_.size() * 8 - bitpos_; }

 private:
  std::string_view data_;
  uint64_t bitpos_ = 0;
};

}  // namespace foresight::storage
