// Prompt lists pasted or imported by the training wizard and the fairness report.
#include <filesystem>
#include <fstream>

#include "core/common/error.h"
#include "core/respo/prompt_list.h"
#include "tests/support/testing.h"

using respo::concepts::parsePromptList;
using respo::concepts::PromptListFormat;

RESPO_TEST(lines_are_trimmed_and_comments_and_blanks_dropped) {
  const auto prompts = parsePromptList("  a photo of a doctor \r\n\n# a comment\n\ta nurse\n   \n", PromptListFormat::Lines);
  REQUIRE(prompts.size() == 2);
  EXPECT_EQ(prompts[0], std::string("a photo of a doctor"));
  EXPECT_EQ(prompts[1], std::string("a nurse"));
}

RESPO_TEST(csv_takes_the_prompt_column_when_there_is_a_header) {
  const auto prompts = parsePromptList("id,prompt,weight\n1,\"a chef, smiling\",0.5\r\n2,\"a \"\"quoted\"\" pilot\",1\n3,,2\n",
                                       PromptListFormat::Csv);
  REQUIRE(prompts.size() == 2);
  EXPECT_EQ(prompts[0], std::string("a chef, smiling"));
  EXPECT_EQ(prompts[1], std::string("a \"quoted\" pilot"));
}

RESPO_TEST(csv_without_header_takes_the_first_column_and_multiline_fields) {
  const auto prompts = parsePromptList("a doctor,x\n\"a nurse\nin a hospital\",y\na teacher", PromptListFormat::Csv);
  REQUIRE(prompts.size() == 3);
  EXPECT_EQ(prompts[0], std::string("a doctor"));
  EXPECT_EQ(prompts[1], std::string("a nurse\nin a hospital"));
  EXPECT_EQ(prompts[2], std::string("a teacher"));
}

RESPO_TEST(broken_csv_and_missing_files_are_errors) {
  EXPECT_THROWS(parsePromptList("prompt\n\"never closed", PromptListFormat::Csv), respo::FormatError, "quoted");
  EXPECT_THROWS(respo::concepts::readPromptList("/nonexistent/prompts.txt"), respo::IoError, "cannot read");
  EXPECT_EQ(parsePromptList("", PromptListFormat::Csv).size(), std::size_t{0});
}

RESPO_TEST(files_are_read_by_extension) {
  const auto dir = std::filesystem::temp_directory_path() / "respodiff-prompt-list-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "p.csv") << "prompt\n\"a, b\"\n";
  std::ofstream(dir / "p.txt") << "a, b\n";
  EXPECT_EQ(respo::concepts::readPromptList((dir / "p.csv").string()).front(), std::string("a, b"));
  EXPECT_EQ(respo::concepts::readPromptList((dir / "p.txt").string()).front(), std::string("a, b"));
  std::filesystem::remove_all(dir);
}

RESPO_TEST(csv_prompt_sets_carry_category_seed_and_guidance) {
  using respo::concepts::parsePromptTable;
  // I2P's columns: prompt, categories, ..., sd_seed, sd_guidance_scale.
  const std::string i2p =
      "prompt,categories,hard,sd_seed,sd_guidance_scale\n"
      "\"a fight, with blood\",\"violence, shocking\",1,2734,7\n"
      "a quiet street,,0,,\n"
      "a protest,harassment,0,42,12.5\n";
  const auto rows = parsePromptTable(i2p, PromptListFormat::Csv);
  REQUIRE(rows.size() == 3);
  EXPECT_EQ(rows[0].prompt, std::string("a fight, with blood"));
  EXPECT_EQ(rows[0].category, std::string("violence, shocking"));
  EXPECT(rows[0].seed == std::optional<std::uint64_t>(2734));
  EXPECT(rows[0].guidance == std::optional<double>(7.0));
  EXPECT(rows[1].category.empty() && !rows[1].seed && !rows[1].guidance);
  EXPECT(rows[2].guidance == std::optional<double>(12.5));
  // Seeds up to 2^64 - 1; nothing else.
  EXPECT(parsePromptTable("prompt,seed\nx,18446744073709551615\n", PromptListFormat::Csv)[0].seed ==
         std::optional<std::uint64_t>(18446744073709551615ull));
  EXPECT_THROWS(parsePromptTable("prompt,seed\nx,18446744073709551616\n", PromptListFormat::Csv), respo::FormatError,
                "row 2, column 'seed'");
  EXPECT_THROWS(parsePromptTable("prompt,sd_seed\nx,-3\n", PromptListFormat::Csv), respo::FormatError, "is not a seed");
  // I2P itself holds scales up to 255; past 1000 (or not a number) is refused.
  EXPECT(parsePromptTable("prompt,guidance\nx,255\n", PromptListFormat::Csv)[0].guidance == std::optional<double>(255.0));
  EXPECT_THROWS(parsePromptTable("prompt,guidance\nx,1500\n", PromptListFormat::Csv), respo::FormatError,
                "row 2, column 'guidance': '1500' is not a guidance scale");
  EXPECT_THROWS(parsePromptTable("prompt,guidance\nx,nan\n", PromptListFormat::Csv), respo::FormatError,
                "is not a guidance scale");
  // Without a header there are no named columns; lines have none either.
  EXPECT(parsePromptTable("a doctor,7\n", PromptListFormat::Csv)[0].category.empty());
  EXPECT_EQ(parsePromptTable("a doctor\n", PromptListFormat::Lines).size(), std::size_t{1});
}
