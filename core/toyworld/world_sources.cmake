# The toy world's renderer and captioned dataset: OpenCV drawing, no LibTorch.
add_library(respodiff_world STATIC
  ${CMAKE_CURRENT_SOURCE_DIR}/toyworld/render.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/toyworld/dataset.cpp)
target_include_directories(respodiff_world PRIVATE ${OpenCV_INCLUDE_DIRS})
target_link_libraries(respodiff_world PUBLIC respodiff_base PRIVATE ${OpenCV_LIBS})
target_compile_options(respodiff_world PRIVATE -Wall -Wextra)
