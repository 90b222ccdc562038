#pragma once
// The safetensors format (an 8-byte little-endian header length, a JSON header, raw little-endian
// tensor data), read through a memory map and validated strictly: every malformed file is
// rejected with a FormatError naming the file and, where it applies, the tensor.
// This layer is independent of any tensor library; core/io/safetensors_torch.h adds LibTorch views.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/io/dtype.h"
#include "core/io/mapped_file.h"

namespace respo::io {

using Metadata = std::map<std::string, std::string>;

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0;  // byte offsets relative to the data section
  std::uint64_t end = 0;
  std::int64_t numel() const;
};

class SafetensorsFile {
 public:
  // Largest header we accept; real checkpoints have headers of a few hundred kilobytes.
  static constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;

  // Maps and validates the file. Throws IoError (cannot read) or FormatError (malformed).
  static SafetensorsFile open(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return file_->path(); }
  // Tensors in file order (ascending data offset).
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const Metadata& metadata() const { return metadata_; }
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  // Throws FormatError if the tensor is absent.
  const TensorInfo& tensor(const std::string& name) const;
  // The tensor's bytes inside the mapping (copy-on-write: writing does not touch the file).
  std::span<std::byte> bytes(const TensorInfo& info) const;
  // Keeps the mapping alive for views that outlive this object.
  const std::shared_ptr<MappedFile>& mapping() const { return file_; }

 private:
  std::shared_ptr<MappedFile> file_;
  std::size_t dataStart_ = 0;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::size_t> index_;
  Metadata metadata_;
};

// One tensor to write: raw little-endian bytes of numel(shape) * dtypeSize(dtype) length.
struct TensorBytes {
  std::string name;
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;
  std::span<const std::byte> data;
};

// Writes atomically (see atomic_file.h). Tensors are laid out by element size, then name, so that
// every tensor's data is aligned to its element size; the header is padded to 8 bytes.
// Throws InvalidArgument for inconsistent input (size mismatch, duplicate or reserved names).
void writeSafetensors(const std::filesystem::path& path, const std::vector<TensorBytes>& tensors,
                      const Metadata& metadata = {});

}  // namespace respo::io
