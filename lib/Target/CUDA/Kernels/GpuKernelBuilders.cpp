//===- GpuKernelBuilders.cpp - what every CUDA kernel builder shares ------===//

#include "Kernels/GpuKernelBuilders.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"

using namespace mlir;
using namespace mlir::loom;
using namespace mlir::loom::cuda;

SmallVector<Value> cuda::forLoop(ImplicitLocOpBuilder &b, Value lo, Value hi,
                                 Value step, ValueRange init, LoopBody body) {
  auto loop = scf::ForOp::create(
      b, lo, hi, step, init,
      [&](OpBuilder &nb, Location loc, Value iv, ValueRange carried) {
        ImplicitLocOpBuilder ib(loc, nb);
        SmallVector<Value> next = body(ib, iv, carried);
        scf::YieldOp::create(ib, next);
      });
  return SmallVector<Value>(loop.getResults());
}

void cuda::forLoop(ImplicitLocOpBuilder &b, Value lo, Value hi, Value step,
                   function_ref<void(ImplicitLocOpBuilder &, Value iv)> body) {
  forLoop(b, lo, hi, step, ValueRange{},
          [&](ImplicitLocOpBuilder &ib, Value iv, ValueRange) {
            body(ib, iv);
            return SmallVector<Value>{};
          });
}

VectorType cuda::f32Vector(MLIRContext *ctx, int64_t width) {
  return VectorType::get({width}, Float32Type::get(ctx));
}

Value cuda::splat(ImplicitLocOpBuilder &b, Value scalar, int64_t width) {
  return vector::BroadcastOp::create(b, f32Vector(b.getContext(), width),
                                     scalar);
}

Value cuda::zeros(ImplicitLocOpBuilder &b, int64_t width) {
  return splat(b, f32(b, 0.0f), width);
}

Value cuda::loadVector(ImplicitLocOpBuilder &b, Value memref, Value index,
                       int64_t width, int64_t alignedBytes) {
  if (width == 1)
    return splat(b, load(b, memref, index), 1);
  return vector::LoadOp::create(b, f32Vector(b.getContext(), width), memref,
                                ValueRange{index}, /*nontemporal=*/false,
                                llvm::MaybeAlign(alignedBytes));
}

void cuda::storeVector(ImplicitLocOpBuilder &b, Value value, Value memref,
                       Value index, int64_t alignedBytes) {
  auto type = cast<VectorType>(value.getType());
  if (type.getNumElements() == 1) {
    store(b, vector::ExtractOp::create(b, value, ArrayRef<int64_t>{0}), memref,
          index);
    return;
  }
  vector::StoreOp::create(b, value, memref, ValueRange{index},
                          /*nontemporal=*/false,
                          llvm::MaybeAlign(alignedBytes));
}

Value cuda::load(ImplicitLocOpBuilder &b, Value memref, Value index) {
  return memref::LoadOp::create(b, memref, ValueRange{index});
}

void cuda::store(ImplicitLocOpBuilder &b, Value value, Value memref,
                 Value index) {
  memref::StoreOp::create(b, value, memref, ValueRange{index});
}

int64_t KernelShape::sharedBytes() const {
  int64_t bytes = 0;
  for (int64_t elements : sharedRegions)
    bytes += llvm::alignTo(elements * 4, 16);
  return bytes;
}

gpu::LaunchOp cuda::buildKernel(
    ImplicitLocOpBuilder &b, const KernelShape &shape,
    function_ref<void(ImplicitLocOpBuilder &, const KernelIds &)> body) {
  MLIRContext *ctx = b.getContext();
  int64_t sharedBytes = shape.sharedBytes();
  Value smem = sharedBytes > 0
                   ? arith::ConstantIntOp::create(b, sharedBytes, 32).getResult()
                   : Value();
  auto launch = gpu::LaunchOp::create(
      b, idx(b, shape.grid[0]), idx(b, shape.grid[1]), idx(b, shape.grid[2]),
      idx(b, shape.threads), idx(b, 1), idx(b, 1), smem,
      /*asyncTokenType=*/nullptr, /*asyncDependencies=*/{},
      /*workgroupAttributions=*/{}, /*privateAttributions=*/{},
      /*clusterSizeX=*/nullptr, /*clusterSizeY=*/nullptr,
      /*clusterSizeZ=*/nullptr, /*module=*/nullptr,
      FlatSymbolRefAttr::get(ctx, shape.name));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&launch.getBody().front());
  KernelIds ids;
  gpu::KernelDim3 blocks = launch.getBlockIds();
  ids.block = {blocks.x, blocks.y, blocks.z};
  ids.thread = launch.getThreadIds().x;
  if (sharedBytes > 0) {
    auto workgroup = gpu::AddressSpaceAttr::get(
        ctx, gpu::GPUDialect::getWorkgroupAddressSpace());
    Value raw = gpu::DynamicSharedMemoryOp::create(
        b, MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                           MemRefLayoutAttrInterface(), workgroup));
    int64_t offset = 0;
    for (int64_t elements : shape.sharedRegions) {
      auto type = MemRefType::get({elements}, b.getF32Type(),
                                  MemRefLayoutAttrInterface(), workgroup);
      ids.shared.push_back(
          memref::ViewOp::create(b, type, raw, idx(b, offset), ValueRange{}));
      offset += llvm::alignTo(elements * 4, 16);
    }
  }
  body(b, ids);
  gpu::TerminatorOp::create(b);
  return launch;
}

void cuda::barrier(ImplicitLocOpBuilder &b) { gpu::BarrierOp::create(b); }

Value cuda::laneSum(ImplicitLocOpBuilder &b, Value value, int64_t lanes) {
  for (int64_t offset = lanes / 2; offset >= 1; offset /= 2) {
    Value other = gpu::ShuffleOp::create(b, value, offset, /*width=*/32,
                                         gpu::ShuffleMode::XOR)
                      .getShuffleResult();
    value = arith::AddFOp::create(b, value, other);
  }
  return value;
}

Value cuda::flatView(ImplicitLocOpBuilder &b, Value memref) {
  auto type = cast<MemRefType>(memref.getType());
  if (type.getRank() == 1)
    return memref;
  SmallVector<ReassociationIndices> all(1);
  for (int64_t d = 0; d < type.getRank(); ++d)
    all.front().push_back(d);
  return memref::CollapseShapeOp::create(b, memref, all);
}

Value cuda::allocBuffer(ImplicitLocOpBuilder &b, ArrayRef<int64_t> shape) {
  return memref::AllocOp::create(b, MemRefType::get(shape, b.getF32Type()));
}

Value cuda::bufferAsTensor(ImplicitLocOpBuilder &b, Value memref) {
  auto type = cast<MemRefType>(memref.getType());
  return bufferization::ToTensorOp::create(
      b, RankedTensorType::get(type.getShape(), type.getElementType()), memref,
      /*restrict=*/b.getUnitAttr(), /*writable=*/b.getUnitAttr());
}

Value cuda::tensorAsBuffer(ImplicitLocOpBuilder &b, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  return bufferization::ToBufferOp::create(
      b, MemRefType::get(type.getShape(), type.getElementType()), tensor,
      /*read_only=*/true);
}
