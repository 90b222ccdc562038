# Finds the project's dependencies. LibTorch comes from the torch wheel in the reference Python
# environment (scripts/setup.sh), located through torch.utils.cmake_prefix_path.
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 2.1 CONFIG REQUIRED)  # the command line's parser (header-only)
find_package(ICU REQUIRED COMPONENTS uc)
find_package(ZLIB REQUIRED)
find_package(Threads REQUIRED)

# The cache scripts/setup.sh fills: $RESPODIFF_CACHE, else $XDG_CACHE_HOME/respodiff, else ~/.cache/respodiff.
if(DEFINED ENV{RESPODIFF_CACHE})
  set(_cache "$ENV{RESPODIFF_CACHE}")
elseif(DEFINED ENV{XDG_CACHE_HOME})
  set(_cache "$ENV{XDG_CACHE_HOME}/respodiff")
else()
  set(_cache "$ENV{HOME}/.cache/respodiff")
endif()
set(RESPODIFF_CACHE_DIR "${_cache}")

# The reference environment lives outside the clone where scripts/setup.sh puts it: under the
# user's cache, named after the hash of the pinned requirements. Find it without being told.
if(NOT RESPODIFF_PYTHON)
  if(DEFINED ENV{RESPODIFF_PYTHON})
    set(_python "$ENV{RESPODIFF_PYTHON}")
  else()
    file(SHA256 ${PROJECT_SOURCE_DIR}/tests/reference/requirements.txt _req_hash)
    string(SUBSTRING ${_req_hash} 0 12 _req_hash)
    set(_python "${_cache}/venv-${_req_hash}/bin/python")
  endif()
  if(EXISTS "${_python}")
    set(RESPODIFF_PYTHON "${_python}" CACHE FILEPATH "Python of the reference environment" FORCE)
    message(STATUS "Reference Python: ${RESPODIFF_PYTHON}")
  endif()
endif()

# The audit's environment (NudeNet's reference; scripts/fetch-audit-data.sh), found the same way.
if(NOT RESPODIFF_AUDIT_PYTHON)
  file(SHA256 ${PROJECT_SOURCE_DIR}/tests/reference/audit-requirements.txt _audit_hash)
  string(SUBSTRING ${_audit_hash} 0 12 _audit_hash)
  if(EXISTS "${_cache}/venv-audit-${_audit_hash}/bin/python")
    set(RESPODIFF_AUDIT_PYTHON "${_cache}/venv-audit-${_audit_hash}/bin/python" CACHE FILEPATH
        "Python of the audit environment" FORCE)
  endif()
endif()

if(RESPODIFF_WITH_TORCH)
  if(NOT Torch_DIR AND RESPODIFF_PYTHON)
    execute_process(
      COMMAND ${RESPODIFF_PYTHON} -c "import torch.utils; print(torch.utils.cmake_prefix_path)"
      OUTPUT_VARIABLE _torch_prefix OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _torch_rc)
    if(NOT _torch_rc EQUAL 0)
      message(FATAL_ERROR "RESPODIFF_PYTHON=${RESPODIFF_PYTHON} cannot import torch; run scripts/setup.sh")
    endif()
    list(APPEND CMAKE_PREFIX_PATH ${_torch_prefix})
  endif()
  # The torch wheel is a CUDA build, so its CMake config looks for the CUDA toolkit even for a
  # CPU-only build; naming the architectures skips its probe for installed GPUs (which fails on
  # machines without one). We compile no CUDA code of our own.
  if(NOT DEFINED TORCH_CUDA_ARCH_LIST AND NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
    set(TORCH_CUDA_ARCH_LIST "8.0;9.0")
  endif()
  find_package(Torch REQUIRED)
  # The torch wheel's libtorch.so exports its own, partly broken copy of std::filesystem
  # (remove_all jumps to null). Naming libstdc++ first among the needed libraries makes the
  # dynamic linker bind those symbols to the system library.
  add_link_options(LINKER:--push-state,--no-as-needed -lstdc++ LINKER:--pop-state)
  message(STATUS "LibTorch ${Torch_VERSION} from ${Torch_DIR}")
  # The wheel's `torch` target links libtorch.so, which needs libtorch_cuda.so and through it about
  # 2.5 GB of NVIDIA libraries, even for a CPU-only run. Unless RESPODIFF_WITH_CUDA asks for that, the
  # programs link LibTorch's CPU half only and load the CUDA half at run time when it is installed
  # (gpu/cuda_runtime.h), so a CPU-only package can leave it out.
  if(NOT RESPODIFF_WITH_CUDA)
    add_library(respodiff_torch INTERFACE)
    target_link_libraries(respodiff_torch INTERFACE torch_cpu_library c10)
    target_include_directories(respodiff_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
    if(TORCH_CXX_FLAGS)
      separate_arguments(_torch_flags UNIX_COMMAND "${TORCH_CXX_FLAGS}")
      target_compile_options(respodiff_torch INTERFACE ${_torch_flags})
    endif()
    set(TORCH_LIBRARIES respodiff_torch)
  endif()
  get_filename_component(RESPODIFF_TORCH_LIB_DIR "${TORCH_LIBRARY}" DIRECTORY)
endif()

if(RESPODIFF_WITH_OPENCV)
  find_package(OpenCV REQUIRED COMPONENTS core imgproc imgcodecs dnn)
endif()

if(RESPODIFF_WITH_QT)
  find_package(Qt6 6.2 REQUIRED COMPONENTS Core Gui Widgets Test)
  find_package(Qt6 6.2 REQUIRED COMPONENTS Charts)
  set(CMAKE_AUTOMOC ON)
  # Qt's "slots"/"signals" keywords collide with LibTorch headers; use Q_SLOTS/Q_SIGNALS.
  add_compile_definitions(QT_NO_KEYWORDS)
endif()
