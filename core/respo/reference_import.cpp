#include "core/respo/reference_import.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "core/common/error.h"
#include "core/io/pickle_reader.h"
#include "core/io/read_file.h"
#include "core/io/zip_reader.h"

namespace respo::concepts {
namespace {

using io::describe;
using io::Pickle;
using io::PickleValue;
using io::readTorchPickle;
using io::TensorRecord;
using io::ZipArchive;
using io::ZipEntry;

struct StorageType {
  const char* name;
  torch::Dtype dtype;
  std::int64_t elementSize;
};

const StorageType* storageType(const std::string& name) {
  static const StorageType types[] = {
      {"FloatStorage", torch::kFloat32, 4}, {"HalfStorage", torch::kFloat16, 2},
      {"BFloat16Storage", torch::kBFloat16, 2}, {"DoubleStorage", torch::kFloat64, 8},
      {"LongStorage", torch::kInt64, 8}, {"IntStorage", torch::kInt32, 4}, {"ShortStorage", torch::kInt16, 2},
      {"CharStorage", torch::kInt8, 1}, {"ByteStorage", torch::kUInt8, 1}, {"BoolStorage", torch::kBool, 1}};
  for (const auto& type : types)
    if (name == type.name) return &type;
  return nullptr;
}

// torch.save before 1.6 (or with _use_new_zipfile_serialization=False) wrote a bare pickle stream
// starting with PROTO 2 and a LONG1 magic number.
void refuseLegacyFormat(const std::filesystem::path& file) {
  // Read through the regular-file check: a FIFO or a device is refused, never waited on.
  const std::string head = io::readHead(file, 3);
  if (head.size() == 3 && static_cast<unsigned char>(head[0]) == 0x80 && static_cast<unsigned char>(head[2]) == 0x8a)
    throw FormatError(file.string() + ": this is the legacy torch.save format (torch < 1.6 or "
                      "_use_new_zipfile_serialization=False), which this importer does not read; "
                      "load it in Python only if you trust it and re-save it with a current torch.save");
}

class TensorBuilder {
 public:
  TensorBuilder(const ZipArchive& zip, std::string prefix) : zip_(zip), prefix_(std::move(prefix)) {}

  torch::Tensor build(const std::string& name, const TensorRecord& r) {
    const std::string where = zip_.path().string() + ": tensor '" + name + "'";
    const StorageType* type = storageType(r.storage.type);
    if (!type) throw FormatError(where + ": storage type '" + r.storage.type + "' is not supported");
    const std::string record = prefix_ + "/data/" + r.storage.key;
    auto [cached, fresh] = storages_.try_emplace(r.storage.key);
    if (fresh) {
      const ZipEntry* entry = zip_.find(record);
      if (!entry) throw FormatError(where + ": its storage record '" + record + "' is missing from the archive");
      const auto data = zip_.read(*entry);
      const auto bytes = data.size();
      const auto element = static_cast<std::uint64_t>(type->elementSize);
      if (bytes % element != 0 || bytes / element != static_cast<std::uint64_t>(r.storage.numel))
        throw FormatError(where + ": storage record '" + record + "' holds " + std::to_string(bytes) + " bytes, but " +
                          std::to_string(r.storage.numel) + " elements of " + type->name + " need " +
                          std::to_string(static_cast<std::uint64_t>(r.storage.numel) * element));
      // One owned copy per storage, shared by every tensor that views it: a file whose entries all
      // alias one storage costs that storage once, not once per entry.
      auto storage = torch::empty({r.storage.numel}, torch::TensorOptions().dtype(type->dtype).device(torch::kCPU));
      if (bytes) std::memcpy(storage.data_ptr(), data.data(), bytes);
      cached->second = {type, storage};
      storageBytes_ += bytes;
    } else if (cached->second.first != type) {
      throw FormatError(where + ": storage '" + r.storage.key + "' is read both as " + cached->second.first->name +
                        " and as " + type->name);
    }
    checkView(where, r);
    if (std::find(r.size.begin(), r.size.end(), 0) != r.size.end())
      return torch::empty(r.size, torch::TensorOptions().dtype(type->dtype).device(torch::kCPU));
    auto view = cached->second.second.as_strided(r.size, r.stride, r.offset);
    if (view.is_contiguous()) return view;
    // A strided view becomes its own copy; all such copies together may not outgrow the file's data.
    copiedBytes_ += static_cast<std::uint64_t>(view.numel()) * static_cast<std::uint64_t>(type->elementSize);
    if (copiedBytes_ > storageBytes_ + (std::uint64_t{64} << 20))
      throw FormatError(where + ": the file's tensors view their storages in ways that would need " +
                        std::to_string(copiedBytes_ >> 20) + " MB of copies; a torch.save state dict does not");
    return view.contiguous();
  }

 private:
  // The view must stay inside its storage (offset + sum((size - 1) * stride) < numel) and may not
  // hold more elements than it (broadcast views would let a small file claim any amount of memory).
  static void checkView(const std::string& where, const TensorRecord& r) {
    auto describeView = [&] {
      std::string out = "offset " + std::to_string(r.offset) + ", size (";
      for (std::size_t i = 0; i < r.size.size(); ++i) out += (i ? ", " : "") + std::to_string(r.size[i]);
      out += "), stride (";
      for (std::size_t i = 0; i < r.stride.size(); ++i) out += (i ? ", " : "") + std::to_string(r.stride[i]);
      return out + ")";
    };
    bool bad = r.offset < 0, empty = false;
    std::int64_t last = r.offset, count = 1;
    for (std::size_t i = 0; i < r.size.size() && !bad; ++i) {
      bad = r.size[i] < 0 || r.stride[i] < 0;
      std::int64_t reach = 0;
      if (r.size[i] == 0) empty = true;
      else bad = bad || __builtin_mul_overflow(r.size[i] - 1, r.stride[i], &reach) ||
                 __builtin_add_overflow(last, reach, &last) || __builtin_mul_overflow(count, r.size[i], &count);
    }
    if (bad || (!empty && last >= r.storage.numel))
      throw FormatError(where + ": its view (" + describeView() + ") does not fit its storage of " +
                        std::to_string(r.storage.numel) + " elements");
    if (!empty && count > r.storage.numel)
      throw FormatError(where + ": its view (" + describeView() + ") repeats elements of its storage of " +
                        std::to_string(r.storage.numel) + " (expanded views are not supported)");
  }

  const ZipArchive& zip_;
  std::string prefix_;
  std::map<std::string, std::pair<const StorageType*, torch::Tensor>> storages_;
  std::uint64_t storageBytes_ = 0, copiedBytes_ = 0;
};

std::string listNames(const std::map<std::string, torch::Tensor>& tensors) {
  std::string out;
  std::size_t shown = 0;
  for (const auto& [name, tensor] : tensors) {
    if (shown++ == 6) return out + ", ...";
    out += (out.empty() ? "" : ", ") + name;
  }
  return out.empty() ? "no tensors" : out;
}

std::string shapeText(const std::vector<std::int64_t>& shape) {
  std::string out;
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? "x" : "") + std::to_string(shape[i]);
  return out;
}

}  // namespace

std::vector<std::pair<std::string, int>> referenceColumns(bool ageNaming) {
  return {{"a woman", 0}, {"a man", 1}, {"young", 2}, {ageNaming ? "old" : "a white-race person", 3},
          {"a black-race person", 4}, {"a Asian-race person", 5}, {"sexual", 6}, {"violence", 7}};
}

std::map<std::string, torch::Tensor> readTorchZipTensors(const std::filesystem::path& file) {
  refuseLegacyFormat(file);
  const ZipArchive zip = ZipArchive::open(file);
  const std::string path = file.string();
  // torch.save names every record <archive>/<record>; the archive name is free.
  const ZipEntry* pickle = nullptr;
  for (const auto& entry : zip.entries()) {
    const auto slash = entry.name.find('/');
    if (slash == std::string::npos || entry.name.substr(slash) != "/data.pkl") continue;
    if (pickle) throw FormatError(path + ": the archive holds two pickles ('" + pickle->name + "' and '" + entry.name + "')");
    pickle = &entry;
  }
  if (!pickle)
    throw FormatError(path + ": a zip archive but not a torch.save file (it has no <archive>/data.pkl record)");
  const std::string prefix = pickle->name.substr(0, pickle->name.find('/'));
  const auto pickleBytes = zip.read(*pickle);
  if (const ZipEntry* order = zip.find(prefix + "/byteorder")) {
    const auto bytes = zip.read(*order);
    const std::string text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (text != "little")
      throw FormatError(path + ": the tensors are stored in '" + text + "' byte order; only little-endian files are supported");
  }
  const Pickle parsed = readTorchPickle(pickleBytes, path + ": " + pickle->name);
  const PickleValue* root = parsed.root;
  if (root->kind != PickleValue::Kind::Dict)
    throw FormatError(path + ": the pickle holds " + describe(*root) + ", not a dict of tensors");
  TensorBuilder builder(zip, prefix);
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& [key, value] : root->dict) {
    if (key->kind != PickleValue::Kind::String)
      throw FormatError(path + ": the dict has a key that is " + describe(*key) + "; tensor names must be strings");
    if (value->kind != PickleValue::Kind::Tensor)
      throw FormatError(path + ": entry '" + key->text + "' is " + describe(*value) +
                        ", not a tensor; only files that hold nothing but tensors are imported");
    tensors[key->text] = builder.build(key->text, value->tensor);
  }
  return tensors;
}

std::vector<ImportedConcept> importReferenceCheckpoint(const std::filesystem::path& file,
                                                       const std::vector<std::pair<std::string, int>>& columns,
                                                       std::vector<int64_t> hShape) {
  const std::string path = file.string();
  if (hShape.size() != 3 || hShape[0] <= 0 || hShape[1] <= 0 || hShape[2] <= 0)
    throw InvalidArgument("RespoDiff import: the concept tensor shape must be three positive sizes (C, H, W), got " +
                          (hShape.empty() ? std::string("nothing") : shapeText(hShape)));
  const auto chosen = columns.empty() ? referenceColumns(false) : columns;
  std::set<std::string> names;
  for (const auto& [name, column] : chosen) {
    if (name.empty()) throw InvalidArgument("RespoDiff import: a concept name is empty");
    if (column < 0) throw InvalidArgument("RespoDiff import: concept '" + name + "' has a negative column");
    if (!names.insert(name).second) throw InvalidArgument("RespoDiff import: concept '" + name + "' is listed twice");
  }

  const auto tensors = readTorchZipTensors(file);
  const std::int64_t rows = hShape[0] * hShape[1] * hShape[2];
  auto weight = [&](const char* name) {
    const auto found = tensors.find(name);
    if (found == tensors.end())
      throw FormatError(path + ": no tensor '" + name + "', so this is not a RespoDiff reference checkpoint (it holds " +
                        listNames(tensors) + ")");
    const torch::Tensor& w = found->second;
    if (w.dim() != 2 || !w.is_floating_point())
      throw FormatError(path + ": '" + name + "' is " + c10::toString(w.scalar_type()) + " " + shapeText(w.sizes().vec()) +
                        ", expected a floating-point matrix [C*H*W, concepts]");
    if (w.size(0) != rows)
      throw FormatError(path + ": '" + name + "' has " + std::to_string(w.size(0)) + " rows, but the concept shape " +
                        shapeText(hShape) + " needs " + std::to_string(rows));
    return w;
  };
  const torch::Tensor ram = weight(kReferenceRamName), sam = weight(kReferenceSamName);
  if (!ram.sizes().equals(sam.sizes()))
    throw FormatError(path + ": '" + kReferenceRamName + "' is " + shapeText(ram.sizes().vec()) + " but '" +
                      kReferenceSamName + "' is " + shapeText(sam.sizes().vec()) + "; they must match");

  std::vector<ImportedConcept> out;
  for (const auto& [name, column] : chosen) {
    if (column >= ram.size(1))
      throw InvalidArgument(path + ": concept '" + name + "' is column " + std::to_string(column) +
                            ", but the checkpoint has " + std::to_string(ram.size(1)) + " columns");
    auto take = [&](const torch::Tensor& w) {
      return w.select(1, column).to(torch::kFloat32).clone(torch::MemoryFormat::Contiguous)
          .view({1, hShape[0], hShape[1], hShape[2]});
    };
    out.push_back({name, column, take(ram), take(sam)});
  }
  return out;
}

}  // namespace respo::concepts
