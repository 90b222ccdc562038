#include "core/io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <set>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/io/atomic_file.h"
#include "core/common/json.h"
#include "core/common/utf8.h"

namespace respo::io {
namespace {

using nlohmann::json;

constexpr std::string_view kMetadataKey = "__metadata__";

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& message) {
  throw FormatError(path.string() + ": " + message);
}

[[noreturn]] void failTensor(const std::filesystem::path& path, const std::string& name,
                             const std::string& message) {
  throw FormatError(path.string() + ": tensor '" + name + "': " + message);
}

std::uint64_t readLittleEndian64(const std::byte* p) {
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<std::uint8_t>(p[i]);
  return value;
}

// Parses the header JSON, rejecting duplicate top-level keys (plain JSON parsing keeps the last).
json parseHeader(const std::filesystem::path& path, std::string_view text) {
  std::set<std::string> seen;
  std::string duplicate;
  auto callback = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1) {
      const auto& key = parsed.get_ref<const std::string&>();
      if (!seen.insert(key).second && duplicate.empty()) duplicate = key;
    }
    return true;
  };
  json header;
  if (respo::json::nestingDepth(text) > 4) fail(path, "header nests deeper than a safetensors header does");
  try {
    header = json::parse(text.begin(), text.end(), callback);
  } catch (const json::exception& e) {  // parse errors and numbers out of range (1e999)
    fail(path, std::string("header is not valid JSON (") + e.what() + ")");
  }
  if (!duplicate.empty()) {
    if (duplicate == kMetadataKey) fail(path, "header has '__metadata__' more than once");
    failTensor(path, duplicate, "appears more than once in the header");
  }
  if (!header.is_object()) fail(path, "header is JSON but not an object");
  return header;
}

Metadata parseMetadata(const std::filesystem::path& path, const json& value) {
  if (!value.is_object()) fail(path, "'__metadata__' must be an object of strings");
  Metadata metadata;
  for (const auto& [key, entry] : value.items()) {
    if (!entry.is_string())
      fail(path, "'__metadata__' entry '" + key + "' must be a string");
    metadata.emplace(key, entry.get<std::string>());
  }
  return metadata;
}

TensorInfo parseTensor(const std::filesystem::path& path, const std::string& name, const json& value) {
  if (!value.is_object()) failTensor(path, name, "entry must be an object");
  TensorInfo info;
  info.name = name;

  const auto dtype = value.find("dtype");
  if (dtype == value.end()) failTensor(path, name, "missing 'dtype'");
  if (!dtype->is_string()) failTensor(path, name, "'dtype' must be a string");
  const auto parsed = dtypeFromName(dtype->get_ref<const std::string&>());
  if (!parsed) failTensor(path, name, "unknown dtype '" + dtype->get<std::string>() + "'");
  info.dtype = *parsed;

  const auto shape = value.find("shape");
  if (shape == value.end()) failTensor(path, name, "missing 'shape'");
  if (!shape->is_array()) failTensor(path, name, "'shape' must be an array of integers");
  std::uint64_t elements = 1;
  for (const auto& dim : *shape) {
    if (!dim.is_number_integer()) failTensor(path, name, "'shape' must be an array of integers");
    if (dim.is_number_integer() && !dim.is_number_unsigned() && dim.get<std::int64_t>() < 0)
      failTensor(path, name, "'shape' has a negative dimension");
    const auto extent = dim.get<std::uint64_t>();
    if (extent > static_cast<std::uint64_t>(INT64_MAX) ||
        __builtin_mul_overflow(elements, extent, &elements))
      failTensor(path, name, "'shape' is too large (element count overflows)");
    info.shape.push_back(static_cast<std::int64_t>(extent));
  }

  const auto offsets = value.find("data_offsets");
  if (offsets == value.end()) failTensor(path, name, "missing 'data_offsets'");
  if (!offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
      !(*offsets)[1].is_number_unsigned())
    failTensor(path, name, "'data_offsets' must be two non-negative integers [begin, end]");
  info.begin = (*offsets)[0].get<std::uint64_t>();
  info.end = (*offsets)[1].get<std::uint64_t>();
  if (info.begin > info.end)
    failTensor(path, name, "'data_offsets' begin " + std::to_string(info.begin) + " is after end " +
                               std::to_string(info.end));

  std::uint64_t bytes = 0;
  if (__builtin_mul_overflow(elements, dtypeSize(info.dtype), &bytes))
    failTensor(path, name, "'shape' is too large (byte count overflows)");
  if (bytes != info.end - info.begin)
    failTensor(path, name, "shape and dtype need " + std::to_string(bytes) + " bytes but 'data_offsets' span " +
                               std::to_string(info.end - info.begin));
  return info;
}

}  // namespace

std::int64_t TensorInfo::numel() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
  SafetensorsFile result;
  result.file_ = MappedFile::open(path);
  const auto all = result.file_->bytes();
  if (all.size() < 8)
    fail(path, "file is " + std::to_string(all.size()) +
                   " bytes, too short to be safetensors (needs an 8-byte header length)");
  std::byte lengthBytes[8];
  result.file_->copyOut(lengthBytes, all.first(8));
  const std::uint64_t headerBytes = readLittleEndian64(lengthBytes);
  if (headerBytes > kMaxHeaderBytes)
    fail(path, "header length " + std::to_string(headerBytes) +
                   " is absurdly large (limit 100000000 bytes); not a safetensors file?");
  if (headerBytes > all.size() - 8)
    fail(path, "header length " + std::to_string(headerBytes) + " runs past the end of the file (" +
                   std::to_string(all.size()) + " bytes): truncated or not safetensors");
  if (headerBytes == 0) fail(path, "header is empty");
  std::string headerText(headerBytes, '\0');
  result.file_->copyOut(headerText.data(), all.subspan(8, headerBytes));
  const std::string_view text(headerText);
  if (!isValidUtf8(text)) fail(path, "header is not valid UTF-8");
  if (text.front() != '{') fail(path, "header does not start with '{'; not a safetensors file?");

  const json header = parseHeader(path, text);
  result.dataStart_ = 8 + headerBytes;
  const std::uint64_t dataSize = all.size() - result.dataStart_;

  for (const auto& [key, value] : header.items()) {
    if (key == kMetadataKey) {
      result.metadata_ = parseMetadata(path, value);
      continue;
    }
    result.tensors_.push_back(parseTensor(path, key, value));
  }

  // Tensors must tile the data section exactly: no gaps, no overlaps, nothing past its end.
  std::stable_sort(result.tensors_.begin(), result.tensors_.end(), [](const auto& a, const auto& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t cursor = 0;
  const TensorInfo* previous = nullptr;
  for (const auto& info : result.tensors_) {
    if (info.end > dataSize)
      failTensor(path, info.name, "'data_offsets' [" + std::to_string(info.begin) + ", " +
                                      std::to_string(info.end) + "] reach past the data section (" +
                                      std::to_string(dataSize) + " bytes): the file is truncated or the offsets are wrong");
    if (info.begin < cursor)
      failTensor(path, info.name, "data overlaps tensor '" + previous->name + "'");
    if (info.begin > cursor)
      failTensor(path, info.name, "leaves a gap of " + std::to_string(info.begin - cursor) +
                                      " unused bytes before its data");
    cursor = info.end;
    previous = &info;
  }
  if (cursor != dataSize)
    fail(path, "data section has " + std::to_string(dataSize - cursor) +
                   " trailing bytes that belong to no tensor");

  for (std::size_t i = 0; i < result.tensors_.size(); ++i) result.index_.emplace(result.tensors_[i].name, i);
  return result;
}

const TensorInfo& SafetensorsFile::tensor(const std::string& name) const {
  const auto found = index_.find(name);
  if (found == index_.end()) fail(path(), "no tensor named '" + name + "'");
  return tensors_[found->second];
}

std::span<std::byte> SafetensorsFile::bytes(const TensorInfo& info) const {
  return file_->bytes().subspan(dataStart_ + info.begin, info.end - info.begin);
}

void writeSafetensors(const std::filesystem::path& path, const std::vector<TensorBytes>& tensors,
                      const Metadata& metadata) {
  std::vector<const TensorBytes*> order;
  std::set<std::string_view> names;
  for (const auto& [key, value] : metadata)
    if (!isValidUtf8(key) || !isValidUtf8(value))
      throw InvalidArgument(path.string() + ": metadata '" + (isValidUtf8(key) ? key : std::string("?")) +
                            "' is not valid UTF-8 text");
  for (const auto& t : tensors) {
    if (!isValidUtf8(t.name)) throw InvalidArgument(path.string() + ": a tensor name is not valid UTF-8 text");
    if (t.name == kMetadataKey)
      throw InvalidArgument(path.string() + ": '__metadata__' cannot be a tensor name");
    if (!names.insert(t.name).second)
      throw InvalidArgument(path.string() + ": tensor '" + t.name + "' given twice");
    std::uint64_t elements = 1;
    for (auto d : t.shape) {
      if (d < 0) throw InvalidArgument(path.string() + ": tensor '" + t.name + "' has a negative dimension");
      elements *= static_cast<std::uint64_t>(d);
    }
    if (elements * dtypeSize(t.dtype) != t.data.size())
      throw InvalidArgument(path.string() + ": tensor '" + t.name + "' has " + std::to_string(t.data.size()) +
                            " bytes but its shape and dtype need " +
                            std::to_string(elements * dtypeSize(t.dtype)));
    order.push_back(&t);
  }
  std::sort(order.begin(), order.end(), [](const TensorBytes* a, const TensorBytes* b) {
    const auto sa = dtypeSize(a->dtype), sb = dtypeSize(b->dtype);
    return sa != sb ? sa > sb : a->name < b->name;
  });

  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header[std::string(kMetadataKey)] = metadata;
  std::uint64_t offset = 0;
  for (const auto* t : order) {
    header[t->name] = {{"dtype", dtypeName(t->dtype)},
                       {"shape", t->shape},
                       {"data_offsets", {offset, offset + t->data.size()}}};
    offset += t->data.size();
  }
  std::string text = respo::json::dump(header);
  text.append((8 - text.size() % 8) % 8, ' ');

  writeFileAtomically(path, [&](const ByteSink& sink) {
    std::byte length[8];
    std::uint64_t n = text.size();
    for (auto& b : length) {
      b = static_cast<std::byte>(n & 0xff);
      n >>= 8;
    }
    sink(length);
    sink(std::as_bytes(std::span(text.data(), text.size())));
    for (const auto* t : order) sink(t->data);
  });
}

}  // namespace respo::io
