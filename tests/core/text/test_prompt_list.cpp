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
