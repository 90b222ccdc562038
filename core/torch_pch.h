#pragma once
// Precompiled header for translation units that use LibTorch.
#include <torch/torch.h>
