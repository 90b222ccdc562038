// A diffusers tokenizer folder: vocab.json, merges.txt, tokenizer_config.json and
// special_tokens_map.json. The input holds the four files separated by "\n@@\n". An input that
// starts with 'J' is a folder as transformers 5 saves it: its first file is tokenizer.json (the
// fast-tokenizer file) and there is no vocab.json or merges.txt.
#include "core/text/clip_tokenizer.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using respo::fuzz::splitOnce;
  const auto folder = respo::fuzz::scratch() / "tokenizer";
  std::filesystem::create_directories(folder);
  const bool fastFile = size > 0 && data[0] == 'J';
  auto [vocab, rest] = splitOnce(fastFile ? respo::fuzz::view(data + 1, size - 1) : respo::fuzz::view(data, size), "\n@@\n");
  auto [merges, rest2] = splitOnce(rest, "\n@@\n");
  auto [config, special] = splitOnce(rest2, "\n@@\n");
  std::error_code ec;
  for (const char* name : {"vocab.json", "merges.txt", "tokenizer.json"}) std::filesystem::remove(folder / name, ec);
  if (fastFile) {
    respo::fuzz::writeScratch("tokenizer/tokenizer.json", vocab);
  } else {
    respo::fuzz::writeScratch("tokenizer/vocab.json", vocab);
    respo::fuzz::writeScratch("tokenizer/merges.txt", merges);
  }
  std::filesystem::remove(folder / "tokenizer_config.json", ec);
  std::filesystem::remove(folder / "special_tokens_map.json", ec);
  if (!config.empty()) respo::fuzz::writeScratch("tokenizer/tokenizer_config.json", config);
  if (!special.empty()) respo::fuzz::writeScratch("tokenizer/special_tokens_map.json", special);
  RESPO_FUZZ_EXPECT_ERRORS({
    const auto tok = respo::text::ClipTokenizer::fromFolder(folder);
    const auto tokens = tok("a photo of the doctor, and a nurse <|endoftext|>");
    if (tokens.ids.size() != static_cast<std::size_t>(tok.maxLength())) std::abort();
  });
  return 0;
}
