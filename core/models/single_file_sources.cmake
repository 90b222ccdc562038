# Single-file (LDM layout) SD 1.x / 2.x checkpoints -> diffusers names. Included from core/CMakeLists.txt.
target_sources(respodiff_core PRIVATE
  ${CMAKE_CURRENT_SOURCE_DIR}/models/single_file.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/models/single_file_unet.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/models/single_file_vae.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/models/single_file_text.cpp)
