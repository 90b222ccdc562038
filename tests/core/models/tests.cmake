# Model parity against diffusers/transformers on random weights (label parity), and model loading.
respodiff_add_reference(NAME reference_sd_models SCRIPT sd_reference.py
                        ARGS ${REF_OUT}/sd --bpe ${RESPODIFF_CLIP_BPE} LABELS parity FIXTURES_SETUP sd_models)
respodiff_add_test(NAME test_model_parity SOURCES core/models/test_model_parity.cpp
                   LIBS respodiff_core LABELS parity ARGS --dir ${REF_OUT}/sd FIXTURES_REQUIRED sd_models)
target_precompile_headers(test_model_parity REUSE_FROM respodiff_core)
