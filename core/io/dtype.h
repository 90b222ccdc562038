#pragma once
// Element types of the safetensors format, independent of any tensor library.
#include <cstddef>
#include <optional>
#include <string_view>

namespace respo::io {

enum class DType { F64, F32, F16, BF16, F8_E4M3, F8_E5M2, I64, I32, I16, I8, U64, U32, U16, U8, BOOL };

// The spelling used in safetensors headers ("F32", "BF16", ...).
std::string_view dtypeName(DType dtype);
std::optional<DType> dtypeFromName(std::string_view name);
// Bytes per element.
std::size_t dtypeSize(DType dtype);

}  // namespace respo::io
