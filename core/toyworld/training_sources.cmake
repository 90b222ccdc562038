# The toy world's training recipes (LibTorch + the renderer).
add_library(respodiff_toyworld STATIC
  ${CMAKE_CURRENT_SOURCE_DIR}/toyworld/toy_model.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/toyworld/model_training.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/toyworld/classifier.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/toyworld/evaluation.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/toyworld/attribute_reader.cpp)
target_link_libraries(respodiff_toyworld PUBLIC respodiff_core respodiff_world)
target_compile_options(respodiff_toyworld PRIVATE -Wall -Wextra)
target_precompile_headers(respodiff_toyworld REUSE_FROM respodiff_core)
