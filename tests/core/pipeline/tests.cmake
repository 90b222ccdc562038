# The whole text-to-image pipeline against diffusers (label parity), and its contract (label pipeline).
respodiff_add_test(NAME test_pipeline_parity SOURCES core/pipeline/test_pipeline_parity.cpp
                   LIBS respodiff_core LABELS "parity;pipeline" ARGS --dir ${REF_OUT}/sd FIXTURES_REQUIRED sd_models)
target_precompile_headers(test_pipeline_parity REUSE_FROM respodiff_core)
add_test(NAME cli_generate_writes_png_with_parameters
         COMMAND respodiff generate --model ${REF_OUT}/sd/sd1 --prompt "a photo of a doctor" --seed 1 --steps 3
                 --out ${CMAKE_BINARY_DIR}/cli-generate.png --quiet)
set_tests_properties(cli_generate_writes_png_with_parameters PROPERTIES LABELS "cli;pipeline"
                     FIXTURES_REQUIRED sd_models PASS_REGULAR_EXPRESSION "wrote .*cli-generate.png")
add_test(NAME cli_generate_rejects_bad_size
         COMMAND respodiff generate --model ${REF_OUT}/sd/sd1 --prompt x --width 31 --quiet)
set_tests_properties(cli_generate_rejects_bad_size PROPERTIES LABELS "cli;pipeline" FIXTURES_REQUIRED sd_models
                     WILL_FAIL TRUE)
# SDXL (two text encoders, added conditioning) against diffusers' StableDiffusionXLPipeline on a small
# random-weight SDXL-shaped model, and its single-file checkpoint (labels parity, sdxl).
respodiff_add_reference(NAME reference_sdxl SCRIPT sdxl_reference.py ARGS ${REF_OUT}/sdxl --bpe ${RESPODIFF_CLIP_BPE}
                        LABELS "parity;sdxl" FIXTURES_SETUP sdxl_models)
respodiff_add_test(NAME test_sdxl_parity SOURCES core/pipeline/test_sdxl_parity.cpp
                   LIBS respodiff_core LABELS "parity;sdxl;pipeline" ARGS --dir ${REF_OUT}/sdxl FIXTURES_REQUIRED sdxl_models)
target_precompile_headers(test_sdxl_parity REUSE_FROM respodiff_core)
# The command line picks SDXL up from the folder or the single file (with its configs), no flags
# (test_sdxl_parity shows the two give the same image).
add_test(NAME cli_generate_sdxl_folder_and_single_file
         COMMAND ${CMAKE_COMMAND} -E env RESPODIFF_LOG=warn sh -c
         "$<TARGET_FILE:respodiff> generate --model ${REF_OUT}/sdxl/sdxl --prompt 'a photo of a doctor' --steps 2 --quiet --out ${CMAKE_BINARY_DIR}/cli-sdxl.png && $<TARGET_FILE:respodiff> generate --model ${REF_OUT}/sdxl/sdxl.safetensors --config-from ${REF_OUT}/sdxl/sdxl --prompt 'a photo of a doctor' --steps 2 --quiet --out ${CMAKE_BINARY_DIR}/cli-sdxl-single.png")
set_tests_properties(cli_generate_sdxl_folder_and_single_file PROPERTIES LABELS "cli;pipeline;sdxl"
                     FIXTURES_REQUIRED sdxl_models PASS_REGULAR_EXPRESSION "wrote .*cli-sdxl-single.png")
# Weighted prompts ((word:1.2), BREAK, > 75 tokens) through the text encoders of SD1, SD2 and SDXL,
# against transformers' encoders with A1111's emphasis rules (label parity).
respodiff_add_reference(NAME reference_prompt_weighting SCRIPT prompt_weights_conditioning.py
                        ARGS --cases ${REF_OUT}/prompt_weights/cases.json --model sd1=${REF_OUT}/sd/sd1
                             --model sd2=${REF_OUT}/sd/sd2 --model sdxl=${REF_OUT}/sdxl/sdxl --out ${REF_OUT}/prompt_weights
                        LABELS "parity;text" FIXTURES_REQUIRED "weights_python;sd_models;sdxl_models"
                        FIXTURES_SETUP weighting_python)
respodiff_add_test(NAME test_prompt_weighting SOURCES core/pipeline/test_prompt_weighting.cpp
                   LIBS respodiff_core LABELS "parity;pipeline;text" ARGS --dir ${REF_OUT}/prompt_weights
                   FIXTURES_REQUIRED weighting_python)
target_precompile_headers(test_prompt_weighting REUSE_FROM respodiff_core)
# Safe Latent Diffusion against diffusers' StableDiffusionPipelineSafe: every preset, final images and
# the latents of every step (labels parity, sld).
respodiff_add_reference(NAME reference_sld SCRIPT sld_reference.py ARGS --dir ${REF_OUT}/sd --out ${REF_OUT}/sld
                        LABELS "parity;sld" FIXTURES_REQUIRED sd_models FIXTURES_SETUP sld_reference)
respodiff_add_test(NAME test_sld_parity SOURCES core/pipeline/test_sld_parity.cpp
                   LIBS respodiff_core LABELS "parity;pipeline;sld" ARGS --dir ${REF_OUT}/sd --sld ${REF_OUT}/sld --sdxl ${REF_OUT}/sdxl/sdxl
                   FIXTURES_REQUIRED "sd_models;sdxl_models;sld_reference")
target_precompile_headers(test_sld_parity REUSE_FROM respodiff_core)
# The command line's --method grammar: SLD beside the baseline, its settings in the picture's text.
add_test(NAME cli_generate_sld_compare_records_its_settings
         COMMAND sh -c "$<TARGET_FILE:respodiff> generate --model ${REF_OUT}/sd/sd1 --prompt 'a knife fight' --steps 12 --method sld:strong,warmup=4 --compare --quiet --out ${CMAKE_BINARY_DIR}/cli-sld.png && grep -a -o 'SLD: \"guidance 2000, warmup 4, threshold 0.025, momentum 0.5, beta 0.7\"' ${CMAKE_BINARY_DIR}/cli-sld.png")
set_tests_properties(cli_generate_sld_compare_records_its_settings PROPERTIES LABELS "cli;sld" FIXTURES_REQUIRED sd_models
                     PASS_REGULAR_EXPRESSION "SLD: \"guidance 2000, warmup 4")
add_test(NAME cli_generate_rejects_unknown_methods
         COMMAND sh -c "$<TARGET_FILE:respodiff> generate --model ${REF_OUT}/sd/sd1 --prompt x --method sld:extreme; $<TARGET_FILE:respodiff> generate --model ${REF_OUT}/sd/sd1 --prompt x --method ablation; $<TARGET_FILE:respodiff> generate --model ${REF_OUT}/sd/sd1 --prompt x --method uce"
         )
set_tests_properties(cli_generate_rejects_unknown_methods PROPERTIES LABELS "cli;sld" FIXTURES_REQUIRED sd_models
                     PASS_REGULAR_EXPRESSION "unknown SLD preset 'extreme'.*\n.*unknown --method 'ablation'.*\n.*--method uce needs its edit file")
add_test(NAME cli_generate_text_methods_take_the_rest_of_the_option
         COMMAND sh -c "$<TARGET_FILE:respodiff> generate --model ${REF_OUT}/sd/sd1 --prompt 'a knife fight' --steps 3 --method 'sld:weak+negative:blood, gore+more' --compare --quiet --out ${CMAKE_BINARY_DIR}/cli-negative.png && grep -a -o 'Negative method: \"blood, gore+more\", SLD: weak' ${CMAKE_BINARY_DIR}/cli-negative.png")
set_tests_properties(cli_generate_text_methods_take_the_rest_of_the_option PROPERTIES LABELS "cli;sld" FIXTURES_REQUIRED sd_models
                     PASS_REGULAR_EXPRESSION "Negative method: \"blood, gore\\+more\", SLD: weak")
# LoRA files (kohya, LoCon, PEFT) fused by diffusers' load_lora_weights + fuse_lora on the random SD1
# and SDXL models (labels parity, lora).
respodiff_add_reference(NAME reference_lora SCRIPT lora_reference.py
                        ARGS --sd ${REF_OUT}/sd --sdxl ${REF_OUT}/sdxl --out ${REF_OUT}/lora
                        LABELS "parity;lora" FIXTURES_REQUIRED "sd_models;sdxl_models" FIXTURES_SETUP lora_reference)
respodiff_add_test(NAME test_lora SOURCES core/pipeline/test_lora.cpp
                   LIBS respodiff_core LABELS "parity;lora;pipeline"
                   ARGS --sd ${REF_OUT}/sd --sdxl ${REF_OUT}/sdxl --lora ${REF_OUT}/lora
                   FIXTURES_REQUIRED "sd_models;sdxl_models;lora_reference")
target_precompile_headers(test_lora REUSE_FROM respodiff_core)
add_test(NAME cli_generate_with_a_lora
         COMMAND sh -c "$<TARGET_FILE:respodiff> generate --model ${REF_OUT}/sd/sd1 --prompt 'a photo of a doctor' --steps 2 --quiet --lora ${REF_OUT}/lora/sd1_kohya.safetensors:0.8 --out ${CMAKE_BINARY_DIR}/cli-lora.png && $<TARGET_FILE:respodiff> generate --model ${REF_OUT}/sd/sd1 --prompt 'a photo of a doctor <lora:sd1_kohya:0.8>' --lora-dir ${REF_OUT}/lora --steps 2 --quiet --out ${CMAKE_BINARY_DIR}/cli-lora-tag.png && cmp ${CMAKE_BINARY_DIR}/cli-lora.png ${CMAKE_BINARY_DIR}/cli-lora-tag.png && grep -a -o 'Lora hashes: .sd1_kohya: [0-9a-f]*' ${CMAKE_BINARY_DIR}/cli-lora.png")
set_tests_properties(cli_generate_with_a_lora PROPERTIES LABELS "cli;lora" FIXTURES_REQUIRED "sd_models;lora_reference"
                     PASS_REGULAR_EXPRESSION "Lora hashes: .sd1_kohya: [0-9a-f]+")
add_test(NAME cli_lora_for_another_model_is_refused
         COMMAND respodiff generate --model ${REF_OUT}/sd/sd1 --prompt "x <lora:sdxl_kohya:1>" --lora-dir ${REF_OUT}/lora
                 --steps 2 --quiet --out ${CMAKE_BINARY_DIR}/cli-lora-refused.png)
set_tests_properties(cli_lora_for_another_model_is_refused PROPERTIES LABELS "cli;lora" FIXTURES_REQUIRED "sd_models;lora_reference"
                     PASS_REGULAR_EXPRESSION "it is an SDXL LoRA")
# Image to image against diffusers' img2img pipelines (SD1, SD2, SDXL; every sampler; labels parity, img2img).
respodiff_add_reference(NAME reference_img2img SCRIPT img2img_reference.py
                        ARGS --sd ${REF_OUT}/sd --sdxl ${REF_OUT}/sdxl --out ${REF_OUT}/img2img
                        LABELS "parity;img2img" FIXTURES_REQUIRED "sd_models;sdxl_models" FIXTURES_SETUP img2img_reference)
respodiff_add_reference(NAME reference_inpaint SCRIPT inpaint_reference.py ARGS --sd ${REF_OUT}/sd --sdxl ${REF_OUT}/sdxl --out ${REF_OUT}/inpaint
                        LABELS "parity;img2img" FIXTURES_REQUIRED "sd_models;sdxl_models;img2img_reference" FIXTURES_SETUP inpaint_reference)
respodiff_add_test(NAME test_img2img SOURCES core/pipeline/test_img2img.cpp
                   LIBS respodiff_core LABELS "parity;img2img;pipeline"
                   ARGS --sd ${REF_OUT}/sd --sdxl ${REF_OUT}/sdxl --img2img ${REF_OUT}/img2img --inpaint ${REF_OUT}/inpaint
                   FIXTURES_REQUIRED "sd_models;sdxl_models;img2img_reference;inpaint_reference")
target_precompile_headers(test_img2img REUSE_FROM respodiff_core)
# Image to image from the command line: the picture's own size (rounded to 8), the strength recorded;
# a method compared on it (both sides start from the picture).
add_test(NAME cli_generate_image_to_image
         COMMAND sh -c "$<TARGET_FILE:respodiff> generate --model ${REF_OUT}/sd/sd1 --prompt 'a cat' --steps 4 --seed 2 --quiet --out ${CMAKE_BINARY_DIR}/cli-txt2img.png && $<TARGET_FILE:respodiff> generate --model ${REF_OUT}/sd/sd1 --prompt 'a watercolor cat' --steps 4 --init-image ${CMAKE_BINARY_DIR}/cli-txt2img.png --strength 0.5 --quiet --out ${CMAKE_BINARY_DIR}/cli-img2img.png && $<TARGET_FILE:respodiff> generate --model ${REF_OUT}/sd/sd1 --prompt 'a knife fight' --steps 4 --init-image ${CMAKE_BINARY_DIR}/cli-txt2img.png --strength 0.7 --method sld:strong --compare --quiet --out ${CMAKE_BINARY_DIR}/cli-img2img-compare.png && grep -a -o 'Size: 32x32, Model hash: [0-9a-f]*, Model: sd1, Denoising strength: 0.5' ${CMAKE_BINARY_DIR}/cli-img2img.png")
set_tests_properties(cli_generate_image_to_image PROPERTIES LABELS "cli;img2img" FIXTURES_REQUIRED sd_models
                     PASS_REGULAR_EXPRESSION "Denoising strength: 0.5")
# Our PNGs read by A1111's parser (re-implemented in tests/reference/a1111_infotext.py): every sampler,
# the model's own, a batch, a comparison sheet, escaped names and prompts; each field as written.
add_test(NAME cli_parameters_read_by_a1111
         COMMAND ${RESPODIFF_PYTHON} ${PROJECT_SOURCE_DIR}/tests/reference/check_infotext.py
                 --respodiff $<TARGET_FILE:respodiff> --model ${PROJECT_SOURCE_DIR}/resources/toyworld/model
                 --work ${CMAKE_BINARY_DIR}/infotext)
set_tests_properties(cli_parameters_read_by_a1111 PROPERTIES LABELS "cli;formats" TIMEOUT 300)
add_test(NAME a1111_infotext_self_test
         COMMAND ${RESPODIFF_PYTHON} ${PROJECT_SOURCE_DIR}/tests/reference/a1111_infotext.py --self-test)
set_tests_properties(a1111_infotext_self_test PROPERTIES LABELS "formats")
# Inpainting from the command line with an inpainting model (9-channel UNet).
add_test(NAME cli_generate_inpainting
         COMMAND respodiff generate --model ${REF_OUT}/inpaint/sd1_inpaint --prompt "a cat" --steps 3 --quiet
                 --init-image ${REF_OUT}/inpaint/init.png --mask ${REF_OUT}/inpaint/mask.png --strength 1
                 --out ${CMAKE_BINARY_DIR}/cli-inpaint.png)
set_tests_properties(cli_generate_inpainting PROPERTIES LABELS "cli;img2img" FIXTURES_REQUIRED inpaint_reference
                     PASS_REGULAR_EXPRESSION "wrote .*cli-inpaint.png")
# Step caching (the DeepCache-style speed mode) on the embedded toy-world model: reuse is exact on the
# storing inputs, skips the deep path and the hook, stays close to full computation, keeps the edit.
respodiff_add_test(NAME test_step_cache SOURCES core/pipeline/test_step_cache.cpp
                   LIBS respodiff_core LABELS "pipeline;speed" ARGS --model ${PROJECT_SOURCE_DIR}/resources/toyworld/model)
target_precompile_headers(test_step_cache REUSE_FROM respodiff_core)
# Half-precision weight storage from the command line; an unknown storage type is a usage error (exit 2).
add_test(NAME cli_generate_half_weight_storage
         COMMAND sh -c "$<TARGET_FILE:respodiff> generate --prompt 'a red circle' --steps 2 --weight-storage fp16 --quiet --out ${CMAKE_BINARY_DIR}/cli-half.png && $<TARGET_FILE:respodiff> generate --prompt x --weight-storage fp8 --quiet; test $? -eq 2 && echo storage-ok")
set_tests_properties(cli_generate_half_weight_storage PROPERTIES LABELS "cli;speed" PASS_REGULAR_EXPRESSION "storage-ok")
# Compare mode as one batch on the embedded toy-world model: each side equals its own run (every
# sampler, no guidance, a long negative prompt, from a picture, inpainting, step caching), a hook sees
# its own rows only, a pair reports one phase, can be cancelled, and text methods run side after side.
respodiff_add_test(NAME test_one_batch_sides SOURCES core/pipeline/test_one_batch_sides.cpp
                   LIBS respodiff_core LABELS "pipeline;speed" ARGS --model ${PROJECT_SOURCE_DIR}/resources/toyworld/model)
target_precompile_headers(test_one_batch_sides REUSE_FROM respodiff_core)
# VAE tiling on the embedded toy-world model: close to the whole decode, recorded, and counted in the
# memory check (parity with diffusers' tiled decode is in test_model_parity).
respodiff_add_test(NAME test_vae_tiling SOURCES core/pipeline/test_vae_tiling.cpp
                   LIBS respodiff_core LABELS "pipeline;speed" ARGS --model ${PROJECT_SOURCE_DIR}/resources/toyworld/model)
target_precompile_headers(test_vae_tiling REUSE_FROM respodiff_core)
# GenerationRequest::winogradConvolutions: the run's own choice, recorded in the parameters.
respodiff_add_test(NAME test_winograd_request SOURCES core/pipeline/test_winograd_request.cpp
                   LIBS respodiff_core LABELS "pipeline;speed" ARGS --model ${PROJECT_SOURCE_DIR}/resources/toyworld/model)
target_precompile_headers(test_winograd_request REUSE_FROM respodiff_core)
