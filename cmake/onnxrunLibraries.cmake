# XNNPACK, pthreadpool and cpuinfo ship no CMake package on Debian: find them as libraries and wrap
# each in an imported target onnxrun_dep::<name>. Used by the build (CMakeLists.txt) and by the
# installed package (onnxrunConfig.cmake), so the exported targets name the same imported targets.
foreach(_onnxrun_lib IN ITEMS XNNPACK pthreadpool cpuinfo)
  if(NOT TARGET onnxrun_dep::${_onnxrun_lib})
    find_library(ONNXRUN_${_onnxrun_lib}_LIBRARY ${_onnxrun_lib} REQUIRED)
    add_library(onnxrun_dep::${_onnxrun_lib} UNKNOWN IMPORTED)
    set_target_properties(onnxrun_dep::${_onnxrun_lib} PROPERTIES
      IMPORTED_LOCATION ${ONNXRUN_${_onnxrun_lib}_LIBRARY})
  endif()
endforeach()
