target_sources(respodiff_core PRIVATE
  ${CMAKE_CURRENT_SOURCE_DIR}/models/layers.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/models/attention.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/models/resnet.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/models/unet_config.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/models/unet.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/models/vae.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/models/clip_text.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/models/clip_encoder.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/models/clip_model.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/models/component_weights.cpp)
