# RespoDiff concept modules: file format, composition, trainer (label respo).
respodiff_add_reference(NAME reference_respo_step SCRIPT respo_step_reference.py
                        ARGS --model ${REF_OUT}/sd/sd1 --out ${REF_OUT}/respo_step.safetensors
                        LABELS "respo;parity" FIXTURES_SETUP respo_step FIXTURES_REQUIRED sd_models)
# The same step on the shipped toy model, whose trained bottleneck matters to its output.
respodiff_add_reference(NAME reference_respo_step_toy SCRIPT respo_step_reference.py
                        ARGS --model ${PROJECT_SOURCE_DIR}/resources/toyworld/model --out ${REF_OUT}/respo_step_toy.safetensors
                        LABELS "respo;parity" FIXTURES_SETUP respo_step_toy)
# And on the SDXL-shaped model, where every UNet call carries pooled text embeddings and size ids.
respodiff_add_reference(NAME reference_respo_step_sdxl SCRIPT respo_step_reference.py
                        ARGS --model ${REF_OUT}/sdxl/sdxl --out ${REF_OUT}/respo_step_sdxl.safetensors
                        LABELS "respo;parity;sdxl" FIXTURES_SETUP respo_step_sdxl FIXTURES_REQUIRED sdxl_models)
respodiff_add_test(NAME test_concepts SOURCES core/respo/test_concepts.cpp
                   LIBS respodiff_core LABELS "respo;parity;sdxl"
                   ARGS --dir ${REF_OUT}/sd --step ${REF_OUT}/respo_step.safetensors
                        --toy-model ${PROJECT_SOURCE_DIR}/resources/toyworld/model --toy-step ${REF_OUT}/respo_step_toy.safetensors
                        --sdxl-model ${REF_OUT}/sdxl/sdxl --sdxl-step ${REF_OUT}/respo_step_sdxl.safetensors
                   FIXTURES_REQUIRED "sd_models;respo_step;respo_step_toy;sdxl_models;respo_step_sdxl")
target_precompile_headers(test_concepts REUSE_FROM respodiff_core)
add_test(NAME cli_train_concept_then_compare
         COMMAND ${CMAKE_COMMAND} -E env RESPODIFF_LOG=warn sh -c
         "$<TARGET_FILE:respodiff> train-concept --model ${REF_OUT}/sd/sd1 --preset violence --steps 2 --trajectory-steps 6 --checkpoint-every 1 --quiet --out ${CMAKE_BINARY_DIR}/cli-violence.safetensors && test ! -e ${CMAKE_BINARY_DIR}/cli-violence.safetensors.checkpoint.safetensors && $<TARGET_FILE:respodiff> generate --model ${REF_OUT}/sd/sd1 --prompt 'a photo of a chef' --steps 3 --concept ${CMAKE_BINARY_DIR}/cli-violence.safetensors --compare --quiet --out ${CMAKE_BINARY_DIR}/cli-compare.png")
set_tests_properties(cli_train_concept_then_compare PROPERTIES LABELS "respo;cli" FIXTURES_REQUIRED sd_models
                     PASS_REGULAR_EXPRESSION "wrote .*cli-compare.png \\(baseline \\| responsible\\)")
add_test(NAME cli_concept_from_another_model_is_refused
         COMMAND respodiff generate --model ${REF_OUT}/sd/sd2 --prompt x --steps 2 --quiet
                 --concept ${CMAKE_BINARY_DIR}/cli-violence.safetensors --out ${CMAKE_BINARY_DIR}/cli-refused.png)
set_tests_properties(cli_concept_from_another_model_is_refused PROPERTIES LABELS "respo;cli"
                     DEPENDS cli_train_concept_then_compare FIXTURES_REQUIRED sd_models
                     PASS_REGULAR_EXPRESSION "was trained on another model")
# Training from a prompt list (.csv with a header and a quoted comma): the list lands in the metadata.
add_test(NAME cli_train_concept_from_a_prompt_list
         COMMAND ${CMAKE_COMMAND} -E env RESPODIFF_LOG=warn sh -c
         "printf 'prompt\\n\"a person, walking\"\\na doctor\\n' > ${CMAKE_BINARY_DIR}/cli-neutral.csv && $<TARGET_FILE:respodiff> train-concept --model ${REF_OUT}/sd/sd1 --preset gender-woman --steps 2 --trajectory-steps 6 --neutral-list ${CMAKE_BINARY_DIR}/cli-neutral.csv --quiet --out ${CMAKE_BINARY_DIR}/cli-lists.safetensors && $<TARGET_FILE:respodiff> inspect ${CMAKE_BINARY_DIR}/cli-lists.safetensors")
set_tests_properties(cli_train_concept_from_a_prompt_list PROPERTIES LABELS "respo;cli" FIXTURES_REQUIRED sd_models
                     PASS_REGULAR_EXPRESSION "more_neutral_prompts\t\\[\"a doctor\"\\].*neutral_prompt\ta person, walking")
add_test(NAME cli_train_concept_on_sdxl_then_compare
         COMMAND ${CMAKE_COMMAND} -E env RESPODIFF_LOG=warn sh -c
         "$<TARGET_FILE:respodiff> train-concept --model ${REF_OUT}/sdxl/sdxl --preset gender-woman --steps 2 --trajectory-steps 6 --quiet --out ${CMAKE_BINARY_DIR}/cli-sdxl-woman.safetensors && $<TARGET_FILE:respodiff> generate --model ${REF_OUT}/sdxl/sdxl --prompt 'a photo of a chef' --steps 2 --concept ${CMAKE_BINARY_DIR}/cli-sdxl-woman.safetensors --compare --quiet --out ${CMAKE_BINARY_DIR}/cli-sdxl-compare.png")
set_tests_properties(cli_train_concept_on_sdxl_then_compare PROPERTIES LABELS "respo;cli;sdxl" FIXTURES_REQUIRED sdxl_models
                     PASS_REGULAR_EXPRESSION "wrote .*cli-sdxl-compare.png \\(baseline \\| responsible\\)")
# A training run killed (SIGKILL) three times while checkpointing every step resumes and finishes.
add_test(NAME training_killed_mid_checkpoint_resumes
         COMMAND ${PROJECT_SOURCE_DIR}/tests/faults/kill_and_resume.sh $<TARGET_FILE:respodiff>
                 ${PROJECT_SOURCE_DIR}/resources/toyworld/model ${CMAKE_BINARY_DIR}/kill-and-resume)
set_tests_properties(training_killed_mid_checkpoint_resumes PROPERTIES LABELS "respo;cli;faults" TIMEOUT 600)
# Closed-form cross-attention edits (UCE family) against the Python re-implementation of the published
# procedure: erase, debias and preserve on the random SD1/SD2 models (labels parity, uce).
respodiff_add_reference(NAME reference_uce SCRIPT uce_reference.py ARGS --dir ${REF_OUT}/sd --out ${REF_OUT}/uce
                        LABELS "respo;parity;uce" FIXTURES_REQUIRED sd_models FIXTURES_SETUP uce_reference)
respodiff_add_test(NAME test_concept_edit SOURCES core/respo/test_concept_edit.cpp
                   LIBS respodiff_core LABELS "respo;parity;uce" ARGS --dir ${REF_OUT}/sd --uce ${REF_OUT}/uce --sdxl ${REF_OUT}/sdxl/sdxl
                   FIXTURES_REQUIRED "sd_models;sdxl_models;uce_reference")
target_precompile_headers(test_concept_edit REUSE_FROM respodiff_core)
add_test(NAME cli_edit_concepts_then_generate
         COMMAND sh -c "$<TARGET_FILE:respodiff> edit-concepts --model ${REF_OUT}/sd/sd1 --erase 'violence; a knife fight' --preserve 'a person; a cat' --out ${CMAKE_BINARY_DIR}/cli-erase.safetensors && $<TARGET_FILE:respodiff> generate --model ${REF_OUT}/sd/sd1 --prompt 'a knife fight' --steps 4 --method uce:${CMAKE_BINARY_DIR}/cli-erase.safetensors+sld:weak --compare --quiet --out ${CMAKE_BINARY_DIR}/cli-uce.png && grep -a -o 'Concept edit: cli-erase (uce-erase)' ${CMAKE_BINARY_DIR}/cli-uce.png")
set_tests_properties(cli_edit_concepts_then_generate PROPERTIES LABELS "respo;cli;uce" FIXTURES_REQUIRED sd_models
                     PASS_REGULAR_EXPRESSION "Concept edit: cli-erase \\(uce-erase\\)")
add_test(NAME cli_concept_edit_from_another_model_is_refused
         COMMAND respodiff generate --model ${REF_OUT}/sd/sd2 --prompt x --steps 2 --quiet
                 --method uce:${CMAKE_BINARY_DIR}/cli-erase.safetensors --out ${CMAKE_BINARY_DIR}/cli-uce-refused.png)
set_tests_properties(cli_concept_edit_from_another_model_is_refused PROPERTIES LABELS "respo;cli;uce"
                     DEPENDS cli_edit_concepts_then_generate FIXTURES_REQUIRED sd_models
                     PASS_REGULAR_EXPRESSION "was made for another model")
