# Importing RespoDiff reference checkpoints (torch.save zip files read without unpickling).
# Included from core/CMakeLists.txt.
target_sources(respodiff_core PRIVATE
  ${CMAKE_CURRENT_SOURCE_DIR}/respo/reference_import.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/respo/pickle_reader.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/respo/zip_reader.cpp)
# zip_reader.cpp checks entry CRC-32s with zlib.
target_link_libraries(respodiff_core PRIVATE ZLIB::ZLIB)
