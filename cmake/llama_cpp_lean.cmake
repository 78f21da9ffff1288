# Passed to llama-cpp-python's build by the Makefile as CMAKE_PROJECT_llama.cpp_INCLUDE: CMake includes it at
# llama.cpp's project() call. llama-cpp-python forces LLAMA_BUILD_COMMON=ON in the cache; this normal variable
# shadows it (policy CMP0077), so libllama-common and cpp-httplib are not compiled. The Python package never
# loads either (it loads libllama/libggml*, and libmtmd only for multimodal chat handlers, which the Makefile
# also turns off with LLAVA_BUILD=OFF).
set(LLAMA_BUILD_COMMON OFF)
