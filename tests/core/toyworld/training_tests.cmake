# The toy model's training recipe and classifier at toy scale (label toyworld).
respodiff_add_test(NAME test_toyworld_training SOURCES core/toyworld/test_training.cpp
                   LIBS respodiff_toyworld LABELS toyworld ARGS --bpe ${RESPODIFF_CLIP_BPE})
target_precompile_headers(test_toyworld_training REUSE_FROM respodiff_core)
respodiff_add_test(NAME test_toyworld_evaluation SOURCES core/toyworld/test_evaluation.cpp
                   LIBS respodiff_toyworld LABELS toyworld)
target_precompile_headers(test_toyworld_evaluation REUSE_FROM respodiff_core)
