//===- TargetDescription.cpp - GPU presets and their text form ------------===//

#include "loom/Target/CUDA/TargetDescription.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"

#include <optional>

using namespace mlir;
using namespace mlir::loom;

CudaTargetDescription CudaTargetDescription::sm90() {
  // H100 SXM / H200: 132 SMs, 228 KiB of shared memory per SM of which a
  // block may use 227 KiB.
  return CudaTargetDescription{};
}

CudaTargetDescription CudaTargetDescription::sm80() {
  // A100: 108 SMs, 164 KiB of shared memory per SM, 163 KiB per block.
  CudaTargetDescription d;
  d.sm = 80;
  d.ptx = 70;
  d.sharedMemoryPerBlockOptin = 166912;
  d.sharedMemoryPerMultiprocessor = 167936;
  d.multiprocessors = 108;
  return d;
}

CudaTargetDescription CudaTargetDescription::sm86() {
  // GA10x: 100 KiB of shared memory per SM, 1536 threads per SM.
  CudaTargetDescription d = sm80();
  d.sm = 86;
  d.ptx = 71;
  d.sharedMemoryPerBlockOptin = 101376;
  d.sharedMemoryPerMultiprocessor = 102400;
  d.maxThreadsPerMultiprocessor = 1536;
  d.multiprocessors = 84;
  return d;
}

CudaTargetDescription CudaTargetDescription::sm89() {
  CudaTargetDescription d = sm86();
  d.sm = 89;
  d.ptx = 78;
  d.multiprocessors = 128;
  return d;
}

CudaTargetDescription CudaTargetDescription::sm100() {
  // B200: 148 SMs; LLVM needs PTX 8.6 for sm_100.
  CudaTargetDescription d;
  d.sm = 100;
  d.ptx = 86;
  d.multiprocessors = 148;
  return d;
}

std::string CudaTargetDescription::chip() const {
  return "sm_" + std::to_string(sm);
}

std::string CudaTargetDescription::features() const {
  return "+ptx" + std::to_string(ptx);
}

namespace {

struct Field {
  const char *key;
  int64_t CudaTargetDescription::*member;
};
constexpr Field kFields[] = {
    {"ptx", &CudaTargetDescription::ptx},
    {"smem", &CudaTargetDescription::sharedMemoryPerBlock},
    {"smem-optin", &CudaTargetDescription::sharedMemoryPerBlockOptin},
    {"smem-sm", &CudaTargetDescription::sharedMemoryPerMultiprocessor},
    {"registers", &CudaTargetDescription::registersPerThread},
    {"registers-sm", &CudaTargetDescription::registersPerMultiprocessor},
    {"warp", &CudaTargetDescription::warpSize},
    {"threads", &CudaTargetDescription::maxThreadsPerBlock},
    {"threads-sm", &CudaTargetDescription::maxThreadsPerMultiprocessor},
    {"sms", &CudaTargetDescription::multiprocessors},
};

std::optional<CudaTargetDescription> preset(llvm::StringRef name) {
  if (name == "sm_80")
    return CudaTargetDescription::sm80();
  if (name == "sm_86")
    return CudaTargetDescription::sm86();
  if (name == "sm_89")
    return CudaTargetDescription::sm89();
  if (name == "sm_90")
    return CudaTargetDescription::sm90();
  if (name == "sm_100")
    return CudaTargetDescription::sm100();
  return std::nullopt;
}

/// The PTX ISA versions from 6.0 on that LLVM 22's NVPTX backend knows (its
/// +ptxNN features). It ignores any other with a warning and writes the
/// SM's oldest version instead, so a typo would pass unnoticed.
bool knownPtx(int64_t v) {
  return (v >= 60 && v <= 65) || (v >= 70 && v <= 78) ||
         (v >= 80 && v <= 88) || v == 90;
}

/// The oldest PTX ISA version each preset's SM needs; LLVM aborts the
/// process (a fatal error) below it.
int64_t oldestPtx(int64_t sm) {
  switch (sm) {
  case 80:
    return 70;
  case 86:
    return 71;
  case 89:
  case 90:
    return 78;
  case 100:
    return 86;
  default:
    return 60;
  }
}

/// Whether the fields make sense for the kernels, which size their tiles
/// from them, and for LLVM's NVPTX backend.
LogicalResult validate(const CudaTargetDescription &d, std::string &error) {
  if (!knownPtx(d.ptx)) {
    error = "ptx must be a PTX ISA version times ten that LLVM knows (60-65, "
            "70-78, 80-88 or 90), got " +
            std::to_string(d.ptx);
    return failure();
  }
  if (int64_t oldest = oldestPtx(d.sm); d.ptx < oldest) {
    error = "sm_" + std::to_string(d.sm) + " needs PTX " +
            std::to_string(oldest / 10) + "." + std::to_string(oldest % 10) +
            " or later (ptx=" + std::to_string(oldest) + " or more)";
    return failure();
  }
  if (d.warpSize != 32) {
    error = "warp must be 32 (every NVIDIA GPU so far)";
    return failure();
  }
  if (d.sharedMemoryPerBlock < (16 << 10) ||
      d.sharedMemoryPerBlockOptin < d.sharedMemoryPerBlock ||
      d.sharedMemoryPerMultiprocessor < d.sharedMemoryPerBlockOptin) {
    error = "shared memory sizes must satisfy 16 KiB <= smem <= smem-optin "
            "<= smem-sm";
    return failure();
  }
  if (d.registersPerThread < 32 || d.registersPerThread > 255 ||
      d.registersPerMultiprocessor < d.registersPerThread * 32) {
    error = "registers must be 32..255 and registers-sm hold a warp of them";
    return failure();
  }
  if (d.maxThreadsPerBlock < 128 || d.maxThreadsPerBlock > 1024 ||
      d.maxThreadsPerMultiprocessor < d.maxThreadsPerBlock ||
      d.multiprocessors < 1) {
    error = "threads must be 128..1024, threads-sm >= threads, sms >= 1";
    return failure();
  }
  return success();
}

} // namespace

FailureOr<CudaTargetDescription>
CudaTargetDescription::parse(llvm::StringRef spec, std::string &error) {
  llvm::SmallVector<llvm::StringRef> parts;
  spec.trim().split(parts, ':');
  std::optional<CudaTargetDescription> d = preset(parts.front());
  if (!d) {
    error = "unknown CUDA target '" + parts.front().str() +
            "' (expected sm_80, sm_86, sm_89, sm_90 or sm_100, optionally "
            "followed by :key=value fields)";
    return failure();
  }
  for (llvm::StringRef part : llvm::drop_begin(parts)) {
    auto [key, value] = part.split('=');
    const Field *field = nullptr;
    for (const Field &f : kFields)
      if (key == f.key)
        field = &f;
    if (!field) {
      error = "unknown CUDA target field '" + key.str() + "'";
      return failure();
    }
    int64_t v;
    if (value.getAsInteger(10, v)) {
      error = "CUDA target field '" + key.str() +
              "' needs an integer value, got '" + value.str() + "'";
      return failure();
    }
    (*d).*(field->member) = v;
  }
  if (failed(validate(*d, error)))
    return failure();
  return *d;
}

std::string CudaTargetDescription::str() const {
  std::string text = chip();
  CudaTargetDescription base = *preset(text);
  for (const Field &f : kFields)
    if (this->*(f.member) != base.*(f.member))
      text += ":" + std::string(f.key) + "=" + std::to_string(this->*(f.member));
  return text;
}

