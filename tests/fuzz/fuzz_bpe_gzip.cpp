// OpenCLIP's gzipped BPE merge list. Odd first byte: the rest is gzipped here first, so the fuzzer
// reaches the text parser; even: the bytes are the file as they are.
#include <zlib.h>

#include "core/text/clip_tokenizer.h"
#include "tests/fuzz/fuzz_support.h"

namespace {
std::string gzip(std::string_view text) {
  z_stream z{};
  if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::string out(deflateBound(&z, static_cast<uLong>(text.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto rest = respo::fuzz::view(data + 1, size - 1);
  const auto path = respo::fuzz::writeScratch("bpe.txt.gz", (data[0] & 1) ? std::string_view(gzip(rest)) : rest);
  RESPO_FUZZ_EXPECT_ERRORS({
    const auto tok = respo::text::ClipTokenizer::fromOpenClipBpe(path, respo::text::TokenizerSettings::openClip());
    const auto tokens = tok("a photo of a doctor");
    if (tokens.ids.size() != 77) std::abort();
  });
  return 0;
}
