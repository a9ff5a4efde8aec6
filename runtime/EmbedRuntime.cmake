# Writes OUTPUT, a C++ fragment holding the runtime's header and sources as
# raw string literals, so that loom-compile can compile the runtime into
# every CUDA artifact without finding any file of the build tree.
file(READ "${HEADER}" header)
file(READ "${SOURCE}" source)
file(READ "${EMULATOR}" emulator)
file(WRITE "${OUTPUT}.tmp"
  "// Generated from runtime/loom_cuda.h and runtime/loom_cuda.c; do not edit.\n"
  "static const char kLoomCudaRuntimeHeader[] = R\"loomrt(${header})loomrt\";\n"
  "static const char kLoomCudaRuntimeSource[] = R\"loomrt(${source})loomrt\";\n"
  "static const char kLoomCudaEmulatorSource[] = R\"loomrt(${emulator})loomrt\";\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
