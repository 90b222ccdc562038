#pragma once
// A restricted pickle interpreter for the data.pkl that torch.save writes for a dict of tensors. It
// never executes anything: it understands only the opcodes such a pickle uses, resolves only a short
// whitelist of globals (tensor and parameter rebuilders, OrderedDict, the typed storage classes) into
// inert markers, and turns tensor-rebuild calls into TensorRecord values. Any other opcode or global
// is a FormatError that names it and says the file is refused because it could run code.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace respo::io {

// A storage named by a persistent id ('storage', <type>, key, location, numel).
struct StorageRef {
  std::string type;      // e.g. "FloatStorage"
  std::string key;       // data/<key> inside the archive
  std::string location;  // e.g. "cpu", "cuda:0" (informational)
  std::int64_t numel = 0;
};

// torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata]).
struct TensorRecord {
  StorageRef storage;
  std::int64_t offset = 0;  // in elements
  std::vector<std::int64_t> size, stride;
  bool parameter = false;   // wrapped by torch._utils._rebuild_parameter
};

struct PickleValue;
// Values point at each other (a pickle may share one object between several places, or even make
// a cycle); all of them are owned by the Pickle they were read from.
using PickleRef = PickleValue*;

struct PickleValue {
  enum class Kind { None, Bool, Int, Float, String, Tuple, List, Dict, Global, Storage, Tensor };
  Kind kind = Kind::None;
  bool boolean = false;
  std::int64_t integer = 0;
  double real = 0;
  std::string text;                                  // String; Global as "module.name"
  std::vector<PickleRef> items;                      // Tuple, List
  std::vector<std::pair<PickleRef, PickleRef>> dict; // Dict, in insertion order
  StorageRef storage;                                // Storage
  TensorRecord tensor;                               // Tensor
};

// "a tensor", "an int", "a dict"... for messages.
std::string describe(const PickleValue& value);

struct Pickle {
  std::vector<std::unique_ptr<PickleValue>> values;  // owns every value
  const PickleValue* root = nullptr;
};

// Interprets `bytes`; `where` (e.g. "model.pt: archive/data.pkl") prefixes every error message.
Pickle readTorchPickle(std::span<const std::byte> bytes, const std::string& where);

}  // namespace respo::io
