#pragma once
// SHA-256 (FIPS 180-4), for the identities of files: a concept module is known by its name, the model
// it was trained on and the hash of its file; other front ends name checkpoints and LoRA files by the
// first hex digits of the same hash.
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace respo::hashing {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t size);
  void update(std::string_view text) { update(text.data(), text.size()); }
  // Ends the computation; the object must not be updated afterwards.
  std::array<std::uint8_t, 32> digest();
  std::string hexDigest();  // 64 lowercase hex digits

 private:
  void block(const std::uint8_t* data);
  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t length_ = 0;  // bytes
};

std::string sha256Hex(std::string_view bytes);
// Reads the file in pieces (any size), from byte `from` on. Throws IoError naming the file when it
// cannot be read, is not a regular file or is shorter than `from`.
std::string fileSha256(const std::filesystem::path& file, std::uint64_t from = 0);
// The short form shown to users and written into a picture's parameters: the first 10 hex digits.
inline std::string shortHash(const std::string& hex) { return hex.substr(0, 10); }

}  // namespace respo::hashing
