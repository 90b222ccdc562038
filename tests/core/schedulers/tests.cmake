# ---- schedulers --------------------------------------------------------------------------------
# One executable: contract_* tests run alone; parity_* tests compare with diffusers' expectations,
# which the reference script regenerates on every run.
respodiff_add_test(NAME test_schedulers SOURCES core/schedulers/test_schedulers.cpp
                   LIBS respodiff_core LABELS schedulers ARGS --filter contract_)
target_precompile_headers(test_schedulers REUSE_FROM respodiff_core)
respodiff_add_reference(NAME reference_schedulers SCRIPT scheduler_reference.py
                        ARGS ${REF_OUT}/schedulers LABELS "schedulers;parity" FIXTURES_SETUP sched_python)
add_test(NAME test_schedulers_parity
         COMMAND test_schedulers --filter parity_ --dir ${REF_OUT}/schedulers)
set_tests_properties(test_schedulers_parity PROPERTIES LABELS "schedulers;parity"
                     FIXTURES_REQUIRED sched_python)
