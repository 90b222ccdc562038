# Single-file (LDM layout) checkpoints: the reference script builds small random SD 1.x / 2.x models,
# saves them as diffusers folders and as LDM single files (checked with diffusers' own single-file
# loader); the C++ test converts the single files and compares every tensor with the folders.
respodiff_add_reference(NAME reference_single_file SCRIPT single_file_reference.py
                        ARGS --out ${REF_OUT}/single_file
                        LABELS parity loading FIXTURES_SETUP single_file_python)
respodiff_add_test(NAME test_single_file SOURCES core/models/test_single_file.cpp
                   LIBS respodiff_core LABELS parity loading
                   ARGS --dir ${REF_OUT}/single_file FIXTURES_REQUIRED single_file_python)
target_precompile_headers(test_single_file REUSE_FROM respodiff_core)
