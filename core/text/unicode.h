#pragma once
// The Unicode operations the CLIP tokenizer's normalizer and pre-tokenizer need, backed by ICU.
#include <string>

namespace respo::text::unicode {

std::u32string nfc(const std::u32string& text);
// Full lower-case mapping of one code point on its own (no context such as final sigma), which
// is how the reference normalizer lower-cases: "İ" becomes "i̇" (two code points).
void appendLowercase(std::u32string& out, char32_t cp);
bool isLetter(char32_t cp);      // general category L*
bool isNumber(char32_t cp);      // general category N*
bool isWhitespace(char32_t cp);  // the White_Space property

}  // namespace respo::text::unicode
