# docs/onnx-coverage.md is the node-test table followed by the model-suite
# table, as the two runs of run_node_tests.py wrote them (NODE, SUITES); it
# fails when DOC differs, so that the document cannot go stale.
#   cmake -DNODE=... -DSUITES=... -DDOC=... -P check_coverage_doc.cmake
file(READ "${NODE}" node)
file(READ "${SUITES}" suites)
file(READ "${DOC}" doc)
if(NOT doc STREQUAL "${node}${suites}")
  message(FATAL_ERROR "${DOC} is stale: regenerate it with\n"
    "  run_node_tests.py --sinterc build/bin/sinterc --e2e --write /tmp/node.md\n"
    "  run_node_tests.py --sinterc build/bin/sinterc --e2e --suites "
    "pytorch-converted,pytorch-operator,simple --write /tmp/suites.md\n"
    "  cat /tmp/node.md /tmp/suites.md > docs/onnx-coverage.md\n"
    "(ctest leaves both tables in build/test/)")
endif()
