# The toy world's renderer and biased dataset (label toyworld). Pass --sheet FILE to the
# executable to also write a contact sheet of renders for a human to look at.
respodiff_add_test(NAME test_world SOURCES core/toyworld/test_world.cpp
                   LIBS respodiff_world LABELS toyworld)
