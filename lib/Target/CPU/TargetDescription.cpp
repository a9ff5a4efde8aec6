//===- TargetDescription.cpp - presets, text form, LLVM CPUs --------------===//

#include "loom/Target/CPU/TargetDescription.h"
#include "mlir/IR/Operation.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <algorithm>
#include <memory>
#include <unistd.h>

using namespace mlir;
using namespace mlir::loom;

CpuTargetDescription CpuTargetDescription::avx512() {
  // Sapphire Rapids-like: 48 KiB L1d, 2 MiB L2 per core.
  return CpuTargetDescription{};
}

CpuTargetDescription CpuTargetDescription::avx2() {
  // Zen 3-like: 32 KiB L1d, 512 KiB L2 per core, 4 MiB of L3 per core.
  CpuTargetDescription d;
  d.isa = "avx2";
  d.vectorBits = 256;
  d.vectorRegisters = 16;
  d.l1Bytes = 32 << 10;
  d.l2Bytes = 512 << 10;
  d.l3Bytes = 4 << 20;
  return d;
}

CpuTargetDescription CpuTargetDescription::sse() {
  CpuTargetDescription d = avx2();
  d.isa = "sse";
  d.vectorBits = 128;
  return d;
}

namespace {

/// The fields of the text form, in the order str() writes them.
struct Field {
  const char *key;
  int64_t CpuTargetDescription::*member;
};
constexpr Field kFields[] = {
    {"vector-bits", &CpuTargetDescription::vectorBits},
    {"registers", &CpuTargetDescription::vectorRegisters},
    {"fma-latency", &CpuTargetDescription::fmaLatency},
    {"fma-pipes", &CpuTargetDescription::fmaPipes},
    {"l1", &CpuTargetDescription::l1Bytes},
    {"l2", &CpuTargetDescription::l2Bytes},
    {"l3", &CpuTargetDescription::l3Bytes},
    {"line", &CpuTargetDescription::lineBytes},
    {"stream-l3s", &CpuTargetDescription::streamFromL3Shares},
};

/// Whether an LLVM CPU name is one of Intel's: every x86 name that is
/// neither generic (x86-64, x86-64-v2 ... v4, i386 ... i686) nor another
/// vendor's (AMD, VIA, Zhaoxin).
bool isIntelCpu(llvm::StringRef name) {
  for (llvm::StringRef other :
       {"x86-64", "generic", "i386", "i486", "i586", "i686", "znver", "bdver",
        "btver", "amdfam", "k6", "k8", "athlon", "opteron", "barcelona",
        "geode", "winchip", "c3", "lujiazui", "yongfeng", "zhaoxin"})
    if (name.starts_with(other))
      return false;
  return true;
}

std::optional<CpuTargetDescription> preset(llvm::StringRef name) {
  if (name == "avx512")
    return CpuTargetDescription::avx512();
  if (name == "avx2")
    return CpuTargetDescription::avx2();
  if (name == "sse")
    return CpuTargetDescription::sse();
  return std::nullopt;
}

/// Whether the fields make sense for the kernels: they divide by them and
/// size register tiles from them.
LogicalResult validate(const CpuTargetDescription &d, std::string &error) {
  if (d.vectorBits != 128 && d.vectorBits != 256 && d.vectorBits != 512) {
    error = "vector-bits must be 128, 256 or 512, got " +
            std::to_string(d.vectorBits);
    return failure();
  }
  if (d.vectorRegisters < 8 || d.vectorRegisters > 64) {
    error = "registers must be between 8 and 64, got " +
            std::to_string(d.vectorRegisters);
    return failure();
  }
  if (d.fmaLatency < 1 || d.fmaLatency > 16 || d.fmaPipes < 1 ||
      d.fmaPipes > 4) {
    error = "fma-latency must be 1..16 and fma-pipes 1..4";
    return failure();
  }
  const int64_t kMaxCache = int64_t(1) << 32;
  if (d.l1Bytes < 4096 || d.l2Bytes < d.l1Bytes || d.l3Bytes < 0 ||
      d.l1Bytes > kMaxCache || d.l2Bytes > kMaxCache || d.l3Bytes > kMaxCache) {
    error = "cache sizes must satisfy 4 KiB <= l1 <= l2 <= 4 GiB and "
            "0 <= l3 <= 4 GiB";
    return failure();
  }
  if (d.streamFromL3Shares < 0 || d.streamFromL3Shares > 1024) {
    error = "stream-l3s must be 0..1024 L3 shares, got " +
            std::to_string(d.streamFromL3Shares);
    return failure();
  }
  // At least one vector wide, so a line holds whole vectors or a vector
  // whole lines.
  if (d.lineBytes < 16 || d.lineBytes > 1024 ||
      !llvm::isPowerOf2_64(d.lineBytes)) {
    error = "line must be a power of two from 16 to 1024 bytes, got " +
            std::to_string(d.lineBytes);
    return failure();
  }
  return success();
}

/// A cache size the OS reports, or `fallback` when it reports none (VMs
/// often report 0).
int64_t osCacheSize(int name, int64_t fallback) {
  long bytes = sysconf(name);
  return bytes > 0 ? bytes : fallback;
}

} // namespace

FailureOr<CpuTargetDescription>
CpuTargetDescription::parseOption(llvm::StringRef spec, Operation *anchor,
                                  llvm::StringRef pass) {
  std::string error;
  FailureOr<CpuTargetDescription> cpu = parse(spec, error);
  if (failed(cpu))
    emitError(anchor->getLoc()) << pass << ": " << error;
  return cpu;
}

FailureOr<CpuTargetDescription>
CpuTargetDescription::parse(llvm::StringRef spec, std::string &error) {
  llvm::SmallVector<llvm::StringRef> parts;
  spec.trim().split(parts, ':');
  std::optional<CpuTargetDescription> d = preset(parts.front());
  if (!d) {
    error = "unknown CPU target '" + parts.front().str() +
            "' (expected avx512, avx2 or sse, optionally followed by "
            ":key=value fields)";
    return failure();
  }
  for (llvm::StringRef part : llvm::drop_begin(parts)) {
    llvm::StringRef key = part.split('=').first;
    llvm::StringRef value = part.split('=').second;
    const Field *field = llvm::find_if(
        kFields, [&](const Field &f) { return key == f.key; });
    if (field == std::end(kFields)) {
      error = "unknown CPU target field '" + key.str() + "'";
      return failure();
    }
    int64_t number;
    if (value.getAsInteger(10, number)) {
      error = "CPU target field '" + key.str() + "' needs an integer, got '" +
              value.str() + "'";
      return failure();
    }
    (*d).*(field->member) = number;
  }
  if (failed(validate(*d, error)))
    return failure();
  return *d;
}

std::string CpuTargetDescription::str() const {
  std::string out = isa;
  CpuTargetDescription base = *preset(isa);
  for (const Field &f : kFields)
    if (this->*(f.member) != base.*(f.member))
      out += std::string(":") + f.key + "=" + std::to_string(this->*(f.member));
  return out;
}

LogicalResult mlir::loom::checkLlvmCpuName(llvm::StringRef cpu,
                                           std::string &error) {
  llvm::InitializeNativeTarget();
  llvm::Triple triple(llvm::sys::getProcessTriple());
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return failure();
  std::unique_ptr<llvm::MCSubtargetInfo> generic(
      target->createMCSubtargetInfo(triple, "", ""));
  if (!generic || !generic->isCPUStringValid(cpu)) {
    error = "unknown --mcpu '" + cpu.str() + "' for " + triple.str();
    return failure();
  }
  std::unique_ptr<llvm::MCSubtargetInfo> named(
      target->createMCSubtargetInfo(triple, cpu, ""));
  if (triple.isX86() && triple.isArch64Bit() &&
      !named->checkFeatures("+64bit")) {
    error = "--mcpu '" + cpu.str() +
            "' is a 32-bit CPU; Loom builds x86-64 code (try x86-64, "
            "x86-64-v3 or a 64-bit CPU name)";
    return failure();
  }
  return success();
}

FailureOr<CpuTargetDescription>
CpuTargetDescription::forLlvmCpu(llvm::StringRef cpu, std::string &error) {
  bool host = cpu.empty() || cpu == "host" || cpu == "native";
  llvm::InitializeNativeTarget();
  llvm::Triple triple(llvm::sys::getProcessTriple());
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return failure();
  std::string name = host ? llvm::sys::getHostCPUName().str() : cpu.str();
  std::string features;
  if (host)
    for (auto &feature : llvm::sys::getHostCPUFeatures())
      features += (feature.second ? "+" : "-") + feature.first().str() + ",";
  if (failed(checkLlvmCpuName(name, error)))
    return failure();
  std::unique_ptr<llvm::MCSubtargetInfo> info(
      target->createMCSubtargetInfo(triple, name, features));
  CpuTargetDescription d = info->checkFeatures("+avx512f") ? avx512()
                           : info->checkFeatures("+avx2") ? avx2()
                                                          : sse();
  if (host) {
    d.l1Bytes = osCacheSize(_SC_LEVEL1_DCACHE_SIZE, d.l1Bytes);
    // The line size the OS reports where it is one validate() takes.
    if (int64_t line = osCacheSize(_SC_LEVEL1_DCACHE_LINESIZE, 0);
        line >= 16 && line <= 1024 && llvm::isPowerOf2_64(line))
      d.lineBytes = line;
    d.l2Bytes = std::max(d.l1Bytes, osCacheSize(_SC_LEVEL2_CACHE_SIZE, d.l2Bytes));
    // The OS reports the whole L3 of the package (256 MiB on an EPYC with
    // eight 32 MiB slices, even inside a 2-vCPU VM); a core can count on a
    // share of one slice: at least 8 cores share it, and no more than 8 MiB.
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int64_t l3 = osCacheSize(_SC_LEVEL3_CACHE_SIZE, 0);
    if (l3 > 0 && cpus > 0)
      d.l3Bytes = std::clamp<int64_t>(l3 / std::max<long>(cpus, 8), d.l2Bytes,
                                      int64_t(8) << 20);
  }
  // Intel (measured on a Xeon with a 2 MiB L2, 2026-12-03): the FIT
  // layer 5 % faster when its 16 MiB projections stream (docs/dense.md).
  if (isIntelCpu(name))
    d.streamFromL3Shares = 1;
  if (failed(validate(d, error)))
    return failure();
  return d;
}
