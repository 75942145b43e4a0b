# Builds an out-of-tree example against this build of sinter, the way a user
# would (find_package(Sinter) with Sinter_DIR), then runs its `check` target.
# Invoked by ctest with -DSOURCE_DIR, -DBINARY_DIR, -DSinter_DIR,
# -DCXX_COMPILER, -DBUILD_TYPE and -DLAUNCHER.
foreach(step configure build check)
  if(step STREQUAL "configure")
    set(command ${CMAKE_COMMAND} -G Ninja -S ${SOURCE_DIR} -B ${BINARY_DIR}
        -DSinter_DIR=${Sinter_DIR} -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
        -DCMAKE_BUILD_TYPE=${BUILD_TYPE} -DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER})
  elseif(step STREQUAL "build")
    set(command ${CMAKE_COMMAND} --build ${BINARY_DIR})
  else()
    set(command ${CMAKE_COMMAND} --build ${BINARY_DIR} --target check)
  endif()
  execute_process(COMMAND ${command} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "example ${SOURCE_DIR}: ${step} failed (${result})")
  endif()
endforeach()
