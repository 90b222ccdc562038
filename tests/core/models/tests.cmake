# Model parity against diffusers/transformers on random weights (label parity), and model loading.
respodiff_add_reference(NAME reference_sd_models SCRIPT sd_reference.py
                        ARGS ${REF_OUT}/sd --bpe ${RESPODIFF_CLIP_BPE} LABELS parity FIXTURES_SETUP sd_models)
respodiff_add_test(NAME test_model_parity SOURCES core/models/test_model_parity.cpp
                   LIBS respodiff_core LABELS parity ARGS --dir ${REF_OUT}/sd --skip full_size
                   FIXTURES_REQUIRED sd_models)
target_precompile_headers(test_model_parity REUSE_FROM respodiff_core)

# The full-size SD1.5 UNet config (random weights, 3.4 GB), one call on a 64x64 latent.
respodiff_add_reference(NAME reference_sd15_unet SCRIPT sd_reference.py
                        ARGS ${REF_OUT}/sd15 --bpe ${RESPODIFF_CLIP_BPE} --only-full-size-unet
                        LABELS "parity;slow" FIXTURES_SETUP sd15_unet)
add_test(NAME test_model_parity_full_size_sd15_unet
         COMMAND test_model_parity --dir ${REF_OUT}/sd15 --filter full_size)
set_tests_properties(test_model_parity_full_size_sd15_unet PROPERTIES LABELS "parity;slow" FIXTURES_REQUIRED sd15_unet)

# CLIPModel (image and text towers, projections) against transformers on random weights.
respodiff_add_reference(NAME reference_clip SCRIPT clip_reference.py ARGS ${REF_OUT}/clip LABELS parity
                        FIXTURES_SETUP clip_models)
respodiff_add_test(NAME test_clip_parity SOURCES core/models/test_clip_parity.cpp
                   LIBS respodiff_core LABELS parity ARGS --dir ${REF_OUT}/clip --bpe ${RESPODIFF_CLIP_BPE}
                   FIXTURES_REQUIRED clip_models)
target_precompile_headers(test_clip_parity REUSE_FROM respodiff_core)

# The profiler summary behind `benchmark --profile/--peak`: FLOP counts, categories, self times, the
# peak measurement; and half-precision weight storage computing in fp32.
respodiff_add_test(NAME test_op_profile SOURCES core/models/test_op_profile.cpp LIBS respodiff_core LABELS "speed")
target_precompile_headers(test_op_profile REUSE_FROM respodiff_core)

# Winograd F(4x4, 3x3) convolutions: accuracy against float64, batch invariance, where they apply,
# and the transformed weight following in-place edits.
respodiff_add_test(NAME test_winograd SOURCES core/models/test_winograd.cpp LIBS respodiff_core LABELS "speed")
target_precompile_headers(test_winograd REUSE_FROM respodiff_core)

# `benchmark --unet-only` runs where --device and --precision say: a guided (batch 2) call on the CPU
# prints its time, and a GPU that is not there is refused with the reason, before any work.
if(TARGET respodiff)
  add_test(NAME cli_benchmark_unet_only
           COMMAND respodiff benchmark --model ${REF_OUT}/sd/sd1 --unet-only --batch 2 --repeat 1 --device cpu
                   --precision fp32)
  set_tests_properties(cli_benchmark_unet_only PROPERTIES LABELS "speed;cli" FIXTURES_REQUIRED sd_models
                       PASS_REGULAR_EXPRESSION "median_seconds: [0-9.]+.*device: CPU.*float32")
  add_test(NAME cli_benchmark_unet_only_refuses_an_absent_gpu
           COMMAND ${CMAKE_COMMAND} -E env RESPODIFF_NO_CUDA=1
                   $<TARGET_FILE:respodiff> benchmark --model ${REF_OUT}/sd/sd1 --unet-only --device cuda --repeat 1)
  set_tests_properties(cli_benchmark_unet_only_refuses_an_absent_gpu PROPERTIES LABELS "speed;cli"
                       FIXTURES_REQUIRED sd_models PASS_REGULAR_EXPRESSION "a CUDA GPU was requested but")
endif()
