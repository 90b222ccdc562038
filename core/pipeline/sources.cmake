target_sources(respodiff_core PRIVATE
  ${CMAKE_CURRENT_SOURCE_DIR}/pipeline/builtin_configs.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/pipeline/stable_diffusion_model.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/pipeline/text_to_image.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/pipeline/prompt_conditioning.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/pipeline/generation_parameters.cpp)
