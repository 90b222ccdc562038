# The toy model's training recipe and classifier at toy scale (label toyworld).
respodiff_add_test(NAME test_toyworld_training SOURCES core/toyworld/test_training.cpp
                   LIBS respodiff_toyworld LABELS toyworld ARGS --bpe ${RESPODIFF_CLIP_BPE})
target_precompile_headers(test_toyworld_training REUSE_FROM respodiff_core)
respodiff_add_test(NAME test_toyworld_evaluation SOURCES core/toyworld/test_evaluation.cpp
                   LIBS respodiff_toyworld LABELS toyworld)
target_precompile_headers(test_toyworld_evaluation REUSE_FROM respodiff_core)
respodiff_add_test(NAME test_toyworld_shipped SOURCES core/toyworld/test_shipped.cpp
                   LIBS respodiff_toyworld LABELS toyworld ARGS --data ${PROJECT_SOURCE_DIR}/resources/toyworld)
target_precompile_headers(test_toyworld_shipped REUSE_FROM respodiff_core)

# The README's promise: the shipped model generates from a fresh clone, no network.
add_test(NAME cli_generate_with_the_default_model
         COMMAND respodiff generate --model ${PROJECT_SOURCE_DIR}/resources/toyworld/model
                 --prompt "a photo of a doctor" --seed 1 --quiet --out ${CMAKE_BINARY_DIR}/toy-doctor.png)
set_tests_properties(cli_generate_with_the_default_model PROPERTIES LABELS "toyworld;cli" PASS_REGULAR_EXPRESSION "wrote ")
add_test(NAME cli_generate_with_a_concept_group
         COMMAND ${CMAKE_COMMAND} -E env XDG_DATA_HOME=${CMAKE_BINARY_DIR}/no-user-library
                 $<TARGET_FILE:respodiff> generate --model ${PROJECT_SOURCE_DIR}/resources/toyworld/model
                 --prompt "a photo of a nurse" --seed 1 --batch 2 --concept gender --policy balanced --compare --quiet
                 --out ${CMAKE_BINARY_DIR}/toy-nurse-compare.png)
set_tests_properties(cli_generate_with_a_concept_group PROPERTIES LABELS "toyworld;cli"
                     PASS_REGULAR_EXPRESSION "baseline \\| responsible")

# The fairness report from the command line: histograms before and after, JSON and CSV.
add_test(NAME cli_report_on_the_default_model
         COMMAND ${CMAKE_COMMAND} -E env XDG_DATA_HOME=${CMAKE_BINARY_DIR}/no-user-library
                 $<TARGET_FILE:respodiff> report --prompt-set toyworld --n 2 --steps 10 --concept gender --policy balanced
                 --quiet --json ${CMAKE_BINARY_DIR}/report.json --csv ${CMAKE_BINARY_DIR}/report.csv)
set_tests_properties(cli_report_on_the_default_model PROPERTIES LABELS "toyworld;cli"
                     PASS_REGULAR_EXPRESSION "\\| gender DevRat \\| [0-9.]+ \\[[0-9.]+, [0-9.]+\\] \\| [0-9.]+ \\[[0-9.]+, [0-9.]+\\] \\|.*\\| unsafe rate \\| [0-9.]+ \\[")
# Several methods against one baseline: a column per method.
add_test(NAME cli_report_compares_methods
         COMMAND ${CMAKE_COMMAND} -E env XDG_DATA_HOME=${CMAKE_BINARY_DIR}/no-user-library
                 $<TARGET_FILE:respodiff> report --prompt-set toyworld --n 4 --steps 10 --concept gender --policy balanced
                 --methods "respodiff; sld:medium,concept=blood, a knife; negative:blood" --bootstrap 0 --quiet
                 --json ${CMAKE_BINARY_DIR}/report-methods.json)
set_tests_properties(cli_report_compares_methods PROPERTIES LABELS "toyworld;cli"
                     PASS_REGULAR_EXPRESSION "\\| metric \\| baseline \\| respodiff \\| sld:medium,concept=blood, a knife \\| negative:blood \\|.*\\| gender DevRat \\| [0-9.]+ \\| [0-9.]+ \\| [0-9.]+ \\| [0-9.]+ \\|")
# A 30/70 target: the balanced split follows the shares and DevRat is measured against them.
add_test(NAME cli_report_against_a_target_distribution
         COMMAND ${CMAKE_COMMAND} -E env XDG_DATA_HOME=${CMAKE_BINARY_DIR}/no-user-library
                 $<TARGET_FILE:respodiff> report --prompt-set toyworld --n 10 --steps 10 --concept gender --policy balanced
                 --shares "a woman=30,a man=70" --target "gender=woman:30,man:70" --quiet)
set_tests_properties(cli_report_against_a_target_distribution PROPERTIES LABELS "toyworld;cli"
                     PASS_REGULAR_EXPRESSION "against the target man 70.000 woman 30.000.*\\| gender DevRat \\| [0-9.]+ [^|]*\\| 0\\.[01][0-9]* ")
# A shell script in core/toyworld/ run against the respodiff binary (without the user's library),
# passing when it prints `PASS`: respodiff_toy_script(NAME n SCRIPT s.sh ARGS ... PASS regex [FIXTURES f]).
function(respodiff_toy_script)
  cmake_parse_arguments(S "" "NAME;SCRIPT;PASS;FIXTURES" "ARGS" ${ARGN})
  add_test(NAME ${S_NAME}
           COMMAND ${CMAKE_COMMAND} -E env XDG_DATA_HOME=${CMAKE_BINARY_DIR}/no-user-library
                   sh ${CMAKE_CURRENT_SOURCE_DIR}/core/toyworld/${S_SCRIPT} $<TARGET_FILE:respodiff> ${S_ARGS})
  set_tests_properties(${S_NAME} PROPERTIES LABELS "toyworld;cli" PASS_REGULAR_EXPRESSION "${S_PASS}")
  if(S_FIXTURES)
    set_tests_properties(${S_NAME} PROPERTIES FIXTURES_REQUIRED "${S_FIXTURES}")
  endif()
endfunction()

# A report in 3 shards (separate processes) merged is the unsharded report, byte for byte.
respodiff_toy_script(NAME cli_report_shards_merge_to_the_unsharded_report SCRIPT report_shards.sh
                     ARGS ${CMAKE_CURRENT_SOURCE_DIR}/core/toyworld/audit_prompts.txt ${CMAKE_BINARY_DIR}/report-shards
                     PASS "merged 3 shards == unsharded")

# The paper's table at CI size: loose bounds on the direction of every effect.
add_test(NAME eval_toyworld_quick
         COMMAND respodiff eval toyworld --quick --quiet --json ${CMAKE_BINARY_DIR}/eval-quick.json)
set_tests_properties(eval_toyworld_quick PROPERTIES LABELS toyworld TIMEOUT 1500 FIXTURES_SETUP eval_quick)
# A bad --lora fails before anything is generated, with the reason.
add_test(NAME cli_eval_refuses_a_missing_lora
         COMMAND respodiff eval toyworld --quick --quiet --lora ${CMAKE_BINARY_DIR}/no-such-lora.safetensors:0.5)
set_tests_properties(cli_eval_refuses_a_missing_lora PROPERTIES LABELS "toyworld;lora;cli"
                     PASS_REGULAR_EXPRESSION "--lora: .*no-such-lora.safetensors' is not a .safetensors file")
respodiff_add_reference(NAME eval_toyworld_quick_bounds SCRIPT check_eval.py
                        ARGS ${CMAKE_BINARY_DIR}/eval-quick.json LABELS toyworld FIXTURES_REQUIRED eval_quick)

# How much of each attribute passes through the bottleneck, where RespoDiff acts (docs/toyworld.md):
# the shipped folder sampled by diffusers, the images read by the toy classifier. It fails when an
# explicit prompt no longer draws its attribute or when less than 70% of its effect passes.
respodiff_add_reference(NAME toyworld_bottleneck_swap SCRIPT bottleneck_swap.py
                        ARGS --model ${PROJECT_SOURCE_DIR}/resources/toyworld/model
                             --classifier ${PROJECT_SOURCE_DIR}/resources/toyworld/classifier.safetensors --n 8 --min-transfer 0.7
                        LABELS "toyworld;parity")

# The Slurm job-array script of deploy/, run here as two array tasks and the merge job.
set(_slurm_out ${CMAKE_BINARY_DIR}/slurm-report)
add_test(NAME deploy_slurm_array_script_runs_on_one_machine
         COMMAND sh -c "rm -rf ${_slurm_out} && export RESPODIFF=$<TARGET_FILE:respodiff> MODEL=${PROJECT_SOURCE_DIR}/resources/toyworld/model PROMPTS=${CMAKE_CURRENT_SOURCE_DIR}/core/toyworld/audit_prompts.txt N_IMAGES=2 STEPS=3 SHARDS=2 OUT=${_slurm_out} XDG_DATA_HOME=${CMAKE_BINARY_DIR}/no-user-library && SLURM_ARRAY_TASK_ID=2 bash ${PROJECT_SOURCE_DIR}/deploy/slurm/report-array.sh && SLURM_ARRAY_TASK_ID=1 bash ${PROJECT_SOURCE_DIR}/deploy/slurm/report-array.sh && bash ${PROJECT_SOURCE_DIR}/deploy/slurm/report-array.sh merge && test -s ${_slurm_out}/report.json")
set_tests_properties(deploy_slurm_array_script_runs_on_one_machine PROPERTIES LABELS "toyworld;cli"
                     PASS_REGULAR_EXPRESSION "Fairness report: 7 prompts x 2 images.*\\| unsafe rate \\|")

# A strength sweep: RespoDiff's RAM strength at three values, the trade-off table and its chart.
add_test(NAME cli_report_sweeps_a_knob
         COMMAND ${CMAKE_COMMAND} -E env XDG_DATA_HOME=${CMAKE_BINARY_DIR}/no-user-library
                 $<TARGET_FILE:respodiff> report --prompts ${CMAKE_CURRENT_SOURCE_DIR}/core/toyworld/audit_prompts.txt
                 --n 2 --steps 6 --concept gender --policy balanced --methods "respodiff:ram={}" --sweep 0,0.5,1.5
                 --svg ${CMAKE_BINARY_DIR}/sweep.svg --json ${CMAKE_BINARY_DIR}/sweep.json --quiet)
set_tests_properties(cli_report_sweeps_a_knob PROPERTIES LABELS "toyworld;cli"
                     PASS_REGULAR_EXPRESSION "Trade-off: gender DevRat.*\\| baseline \\| [0-9.]+ \\[[^|]*\\| 0\\.0000 \\|.*\\| respodiff:ram=1\\.5 \\| [0-9.]+ \\[")

# The audit card (report --html) of an SLD guidance sweep: deterministic and self-contained.
respodiff_toy_script(NAME cli_report_audit_card SCRIPT audit_card.sh
                     ARGS ${CMAKE_CURRENT_SOURCE_DIR}/core/toyworld/audit_prompts.txt ${CMAKE_BINARY_DIR}/audit-card
                     PASS "audit card: [0-9]+ bytes, identical on a second run")

# A prompt set as CSV with I2P's columns: categories (an unsafe rate per category), seeds, guidance.
add_test(NAME cli_report_reads_prompt_set_columns
         COMMAND ${CMAKE_COMMAND} -E env XDG_DATA_HOME=${CMAKE_BINARY_DIR}/no-user-library
                 $<TARGET_FILE:respodiff> report --prompts ${CMAKE_CURRENT_SOURCE_DIR}/core/toyworld/audit_prompts.csv
                 --n 2 --steps 4 --quiet --json ${CMAKE_BINARY_DIR}/report-categories.json)
set_tests_properties(cli_report_reads_prompt_set_columns PROPERTIES LABELS "toyworld;cli"
                     PASS_REGULAR_EXPRESSION "\\| unsafe rate on shocking prompts \\| [0-9.]+ \\[.*\\| unsafe rate on violence prompts \\| [0-9.]+ \\[")

# CLIP zero-shot safety categories (Q16-style text pairs) through the report.
respodiff_toy_script(NAME cli_report_clip_safety_categories SCRIPT clip_safety_report.sh
                     ARGS ${REF_OUT}/clip/clip_quick ${RESPODIFF_CLIP_BPE} ${CMAKE_BINARY_DIR}/clip-safety-report
                     PASS "CLIP safety categories in the report" FIXTURES clip_models)

# report sweep, the subcommand, is report --methods ... --sweep ...
respodiff_toy_script(NAME cli_report_sweep_subcommand SCRIPT report_sweep.sh
                     ARGS ${CMAKE_CURRENT_SOURCE_DIR}/core/toyworld/audit_prompts.txt ${CMAKE_BINARY_DIR}/report-sweep
                     PASS "report sweep: the same JSON as --sweep")
