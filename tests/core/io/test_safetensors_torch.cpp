// core/io/safetensors_torch: zero-copy tensor views over the memory map, and the torch writer.
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/safetensors_torch.h"
#include "tests/support/testing.h"

namespace fs = std::filesystem;
using namespace respo::io;

RESPO_TEST(tensors_view_the_mapping_without_copying) {
  const auto file = SafetensorsFile::open(fs::path(respo::testing::option("dir")) / "python_written.safetensors");
  std::size_t views = 0;
  for (const auto& info : file.tensors()) {
    const auto tensor = loadTensor(file, info);
    EXPECT(tensor.scalar_type() == toTorchDtype(info.dtype));
    EXPECT(tensor.sizes().vec() == info.shape);
    const auto bytes = file.bytes(info);
    if (!bytes.empty() && tensor.data_ptr() == static_cast<void*>(bytes.data())) ++views;
  }
  // Python's writer aligns every tensor, so every non-empty tensor is a view.
  std::size_t nonEmpty = 0;
  for (const auto& info : file.tensors()) nonEmpty += info.end > info.begin;
  EXPECT_EQ(views, nonEmpty);
}

RESPO_TEST(values_match_python) {
  const auto file = SafetensorsFile::open(fs::path(respo::testing::option("dir")) / "python_written.safetensors");
  const auto special = loadTensor(file, "special.float_values");
  EXPECT(std::isinf(special[0].item<float>()) && special[0].item<float>() > 0);
  EXPECT(std::signbit(special[2].item<float>()));
  EXPECT_NEAR(special[4].item<float>(), 3.4e38, 1e32);
}

RESPO_TEST(views_outlive_the_file_object_and_writes_stay_private) {
  const fs::path path = fs::temp_directory_path() / "respodiff-torch-view.safetensors";
  saveTensors(path, {{"x", torch::arange(6, torch::kFloat32).reshape({2, 3})}}, {{"k", "v"}});
  torch::Tensor view;
  {
    const auto file = SafetensorsFile::open(path);
    view = loadTensor(file, "x");
  }
  EXPECT_EQ(view[1][2].item<float>(), 5.0f);
  view.mul_(2);  // copy-on-write: the file keeps its values
  EXPECT_EQ(loadTensor(SafetensorsFile::open(path), "x")[1][2].item<float>(), 5.0f);
  const auto reread = loadAll(SafetensorsFile::open(path));
  EXPECT(torch::equal(reread.at("x"), torch::arange(6, torch::kFloat32).reshape({2, 3})));
}

RESPO_TEST(non_contiguous_and_half_tensors_are_saved_correctly) {
  const fs::path path = fs::temp_directory_path() / "respodiff-torch-layout.safetensors";
  const auto source = torch::randn({4, 5}).t();  // not contiguous
  const auto half = torch::randn({3}).to(torch::kBFloat16);
  saveTensors(path, {{"t", source}, {"h", half}});
  const auto file = SafetensorsFile::open(path);
  EXPECT(torch::equal(loadTensor(file, "t"), source.contiguous()));
  EXPECT(torch::equal(loadTensor(file, "h"), half));
  EXPECT_THROWS(saveTensors(path, {{"c", torch::randn({2}, torch::kComplexFloat)}}), respo::InvalidArgument,
               "cannot store");
}
