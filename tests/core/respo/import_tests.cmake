# Importing RespoDiff reference checkpoints (label respo): the reference script writes torch.save
# files (good ones in several layouts, plus malicious, non-tensor, compressed and damaged ones) and the
# expected tensors as safetensors; the C++ test reads them without unpickling and compares bit for bit.
respodiff_add_reference(NAME reference_respo_import SCRIPT respo_import_reference.py
                        ARGS --out ${REF_OUT}/respo_import LABELS respo FIXTURES_SETUP respo_import_python)
respodiff_add_test(NAME test_reference_import SOURCES core/respo/test_reference_import.cpp
                   LIBS respodiff_core LABELS respo
                   ARGS --dir ${REF_OUT}/respo_import FIXTURES_REQUIRED respo_import_python)
target_precompile_headers(test_reference_import REUSE_FROM respodiff_core)
add_test(NAME cli_import_reference
         COMMAND respodiff import-reference ${REF_OUT}/respo_import/full.pt --out ${CMAKE_BINARY_DIR}/imported)
set_tests_properties(cli_import_reference PROPERTIES LABELS "respo;cli" FIXTURES_REQUIRED respo_import_python
                     PASS_REGULAR_EXPRESSION "wrote .*a-woman.safetensors \\(column 0\\)")
