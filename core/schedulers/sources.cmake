# Diffusion schedulers (diffusers parity). Their numpy-mirroring float arithmetic assumes plain IEEE
# operations without fused multiply-add contraction, which the default x86-64 target guarantees.
target_sources(respodiff_core PRIVATE
  ${CMAKE_CURRENT_SOURCE_DIR}/schedulers/scheduler.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/schedulers/ddim_scheduler.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/schedulers/euler_scheduler.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/schedulers/euler_ancestral_scheduler.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/schedulers/dpm_solver_multistep_scheduler.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/schedulers/pndm_scheduler.cpp)
