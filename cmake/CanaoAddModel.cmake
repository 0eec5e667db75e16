# canao_add_model(): compile an ONNX model with canaoc at build time into a
# static library target. Included by CanaoConfig.cmake (find_package(Canao))
# and by canao's own CMakeLists.txt (add_subdirectory / FetchContent).
#
#   canao_add_model(NAME
#     MODEL model.onnx            # relative to CMAKE_CURRENT_SOURCE_DIR
#     [SHAPES input=1x128 ...]    # canaoc --shape
#     [TARGET generic|x86-avx2|x86-avx512|neon|host]   (default generic)
#     [THREADS N]                 # threads of a new context (canaoc --threads)
#     [TUNING file.json]          # canaoc --tuning
#     [FREEZE input=file.npy ...] # canaoc --freeze
#     [EMBED_WEIGHTS]             # weights compiled into the library
#     [EXTRA_ARGS ...])           # any other canaoc arguments
#
# Gives:
#   - library target NAME (NAME.h on its include path, the C API of
#     docs/runtime.md), built from the generated sources with the target's
#     ISA flags;
#   - the weight blob NAME.weights next to the executables of the calling
#     directory (CMAKE_RUNTIME_OUTPUT_DIRECTORY, else the current binary
#     dir), its absolute path in the compile definition NAME_WEIGHTS_PATH
#     (upper-case NAME) of the library's users and in the variable
#     NAME_WEIGHTS_PATH; not with EMBED_WEIGHTS (then NAME_create(NULL, ...)).
#
# canaoc runs again when the model, its external data (read from canaoc's
# depfile), the tuning or freeze files, or canaoc itself change; otherwise
# nothing is regenerated or rebuilt.

include_guard(GLOBAL)

function(canao_add_model name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "EMBED_WEIGHTS"
    "MODEL;TARGET;THREADS;TUNING" "SHAPES;FREEZE;EXTRA_ARGS")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR
      "canao_add_model(${name}): unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT name MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR
      "canao_add_model(${name}): the name must be a C identifier")
  endif()
  if(NOT ARG_MODEL)
    message(FATAL_ERROR "canao_add_model(${name}): MODEL is required")
  endif()
  if(NOT TARGET Canao::canaoc)
    message(FATAL_ERROR "canao_add_model(${name}): no Canao::canaoc "
      "(use find_package(Canao) or add canao with add_subdirectory)")
  endif()
  get_filename_component(model "${ARG_MODEL}" ABSOLUTE
                         BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  if(NOT EXISTS "${model}")
    message(FATAL_ERROR "canao_add_model(${name}): no model at ${model}")
  endif()

  set(out "${CMAKE_CURRENT_BINARY_DIR}/canao/${name}")
  set(args "${model}" -o "${out}" --name ${name} -q
           --depfile "${out}.d")
  set(depends "${model}")
  if(ARG_TARGET)
    list(APPEND args --target ${ARG_TARGET})
  endif()
  if(ARG_THREADS)
    list(APPEND args --threads ${ARG_THREADS})
  endif()
  if(ARG_TUNING)
    get_filename_component(tuning "${ARG_TUNING}" ABSOLUTE
                           BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND args --tuning "${tuning}")
    list(APPEND depends "${tuning}")
  endif()
  foreach(s IN LISTS ARG_SHAPES)
    list(APPEND args --shape ${s})
  endforeach()
  foreach(f IN LISTS ARG_FREEZE)
    string(FIND "${f}" "=" eq)
    if(eq LESS 1)
      message(FATAL_ERROR
        "canao_add_model(${name}): FREEZE expects INPUT=FILE.npy, got ${f}")
    endif()
    string(SUBSTRING "${f}" 0 ${eq} input)
    math(EXPR rest "${eq} + 1")
    string(SUBSTRING "${f}" ${rest} -1 file)
    get_filename_component(file "${file}" ABSOLUTE
                           BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND args --freeze "${input}=${file}")
    list(APPEND depends "${file}")
  endforeach()
  set(sources "${out}/${name}.cpp")
  if(ARG_EMBED_WEIGHTS)
    list(APPEND args --embed-weights)
    list(APPEND sources "${out}/${name}_weights.cpp")
  endif()
  list(APPEND args ${ARG_EXTRA_ARGS})

  # canaoc writes OUTDIR atomically (a sibling temporary, renamed), so every
  # output appears at once; the depfile adds the model's external data.
  set(outputs "${out}/${name}.h" ${sources} "${out}/${name}.isa-flags")
  if(NOT ARG_EMBED_WEIGHTS)
    list(APPEND outputs "${out}/${name}.weights")
  endif()
  add_custom_command(
    OUTPUT ${outputs}
    COMMAND Canao::canaoc ${args}
    DEPENDS ${depends} Canao::canaoc "$<TARGET_FILE:Canao::canaoc>"
    DEPFILE "${out}.d"
    COMMENT "canaoc: compiling ${ARG_MODEL} into ${name}"
    VERBATIM)

  # Here, not at include time: imported targets are scoped to the directory
  # that finds them, and this runs in the caller's.
  find_package(Threads REQUIRED)
  add_library(${name} STATIC ${sources} "${out}/${name}.h")
  target_compile_features(${name} PUBLIC cxx_std_17)
  target_include_directories(${name} PUBLIC "${out}" "${out}/runtime")
  # CMAKE_DL_LIBS: OpenCL targets dlopen the driver (libdl before glibc
  # 2.34, and on Android).
  target_link_libraries(${name} PUBLIC Threads::Threads ${CMAKE_DL_LIBS})
  # The target's ISA flags (-mavx2 ..., none for generic and neon), from the
  # generated response file, so the flags table lives in canaoc alone.
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${name} PRIVATE "@${out}/${name}.isa-flags")
    set_source_files_properties(${sources} PROPERTIES
      OBJECT_DEPENDS "${out}/${name}.isa-flags")
  endif()

  if(NOT ARG_EMBED_WEIGHTS)
    if(CMAKE_RUNTIME_OUTPUT_DIRECTORY)
      set(dest "${CMAKE_RUNTIME_OUTPUT_DIRECTORY}/${name}.weights")
    else()
      set(dest "${CMAKE_CURRENT_BINARY_DIR}/${name}.weights")
    endif()
    add_custom_command(
      OUTPUT "${dest}"
      COMMAND ${CMAKE_COMMAND} -E copy_if_different
              "${out}/${name}.weights" "${dest}"
      DEPENDS "${out}/${name}.weights"
      COMMENT "canao: ${name}.weights next to the executables"
      VERBATIM)
    add_custom_target(${name}_weights DEPENDS "${dest}")
    add_dependencies(${name} ${name}_weights)
    string(TOUPPER "${name}" upper)
    target_compile_definitions(${name} INTERFACE
      ${upper}_WEIGHTS_PATH="${dest}")
    set(${upper}_WEIGHTS_PATH "${dest}" PARENT_SCOPE)
  endif()
endfunction()
