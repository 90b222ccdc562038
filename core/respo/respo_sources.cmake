target_sources(respodiff_core PRIVATE
  ${CMAKE_CURRENT_SOURCE_DIR}/respo/concept_module.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/respo/composition.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/respo/trainer.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/respo/concept_library.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/respo/fairness_report.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/respo/clip_attribute_reader.cpp)
