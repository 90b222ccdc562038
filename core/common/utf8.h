#pragma once
// UTF-8 validation, decoding and encoding (RFC 3629: no overlongs, no surrogates, max U+10FFFF).
#include <string>
#include <string_view>
#include <vector>

namespace respo {

bool isValidUtf8(std::string_view bytes);
// Throws respo::InvalidArgument on malformed input.
std::u32string decodeUtf8(std::string_view bytes);
void appendUtf8(std::string& out, char32_t codePoint);
std::string encodeUtf8(std::u32string_view codePoints);

}  // namespace respo
