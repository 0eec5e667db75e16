// RUN: canao-opt %s --canao-fuse-elementwise --canonicalize --split-input-file | FileCheck %s

// The erf GELU: x * 0.5 * (1 + erf(x / sqrt(2))) is one fused op whose
// body is the simplified polynomial x * (0.5 + 0.5 * erf(0.707107 * x)):
// the division by a constant became a multiplication, the common factor x
// was taken out.
// CHECK-LABEL: func.func @gelu
// CHECK-DAG: %[[R:.*]] = arith.constant 0.707106769 : f32
// CHECK-DAG: %[[H:.*]] = arith.constant 5.000000e-01 : f32
// CHECK: canao.fused(%arg0) : (tensor<4x8xf32>) -> tensor<4x8xf32> {
// CHECK-NEXT: ^bb0(%[[X:.*]]: f32):
// CHECK-NEXT: %[[S:.*]] = arith.mulf %[[X]], %[[R]] : f32
// CHECK-NEXT: %[[E:.*]] = math.erf %[[S]] : f32
// CHECK-NEXT: %[[M:.*]] = arith.mulf %[[E]], %[[H]] : f32
// CHECK-NEXT: %[[A:.*]] = arith.addf %[[M]], %[[H]] : f32
// CHECK-NEXT: %[[Y:.*]] = arith.mulf %[[X]], %[[A]] : f32
// CHECK-NEXT: canao.yield %[[Y]] : f32
// CHECK-NOT: canao.erf
func.func @gelu(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %sqrt2 = canao.constant dense<1.41421354> : tensor<f32>
  %one = canao.constant dense<1.0> : tensor<f32>
  %half = canao.constant dense<0.5> : tensor<f32>
  %0 = canao.div %x, %sqrt2 : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %1 = canao.erf %0 : tensor<4x8xf32>
  %2 = canao.add %1, %one : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %3 = canao.mul %x, %2 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %4 = canao.mul %3, %half : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  return %4 : tensor<4x8xf32>
}

// -----

// The mask transform (1 - mask) * -10000 with its int64 -> f32 cast folds
// to mask * 10000 - 10000.
// CHECK-LABEL: func.func @mask
// CHECK: canao.fused(%arg0) : (tensor<1x1x1x8xi64>) -> tensor<1x1x1x8xf32>
// CHECK: arith.sitofp
// CHECK-NEXT: arith.mulf %{{.*}}, %{{.*}}
// CHECK-NEXT: arith.addf
// CHECK-NOT: arith.subf
func.func @mask(%m: tensor<1x1x1x8xi64>) -> tensor<1x1x1x8xf32> {
  %one = canao.constant dense<1.0> : tensor<f32>
  %big = canao.constant dense<-10000.0> : tensor<f32>
  %0 = canao.cast %m : tensor<1x1x1x8xi64> to tensor<1x1x1x8xf32>
  %1 = canao.sub %one, %0 : (tensor<f32>, tensor<1x1x1x8xf32>) -> tensor<1x1x1x8xf32>
  %2 = canao.mul %1, %big : (tensor<1x1x1x8xf32>, tensor<f32>) -> tensor<1x1x1x8xf32>
  return %2 : tensor<1x1x1x8xf32>
}

// -----

// Strength reduction: pow(x, 2) is x * x and 1 / sqrt(v) is rsqrt(v).
// CHECK-LABEL: func.func @strength
// CHECK: canao.fused(%arg0, %arg1)
// CHECK-DAG: arith.mulf %[[A:.*]], %[[A]] : f32
// CHECK-DAG: math.rsqrt
// CHECK-NOT: math.sqrt
// CHECK-NOT: math.powf
// CHECK-NOT: arith.divf
func.func @strength(%x: tensor<8xf32>, %v: tensor<8xf32>) -> tensor<8xf32> {
  %two = canao.constant dense<2.0> : tensor<f32>
  %0 = canao.pow %x, %two : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %1 = canao.sqrt %v : tensor<8xf32>
  %2 = canao.div %0, %1 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %2 : tensor<8xf32>
}

// -----

// Negative: an intermediate with a second consumer is not folded away: the
// chain is cut there and the shared value stays materialized.
// CHECK-LABEL: func.func @shared
// CHECK: %[[T:.*]] = canao.fused(%arg0) : (tensor<8xf32>) -> tensor<8xf32>
// CHECK: math.tanh
// CHECK: %[[U:.*]] = canao.fused(%[[T]])
// CHECK: %[[V:.*]] = canao.fused(%[[T]])
// CHECK: return %[[U]], %[[V]]
func.func @shared(%x: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %c = canao.constant dense<3.0> : tensor<f32>
  %t = canao.tanh %x : tensor<8xf32>
  %u = canao.mul %t, %c : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %v = canao.add %t, %c : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  return %u, %v : tensor<8xf32>, tensor<8xf32>
}

// -----

// Broadcasting across ranks: the [1,1,1,8] mask producer is not pulled into
// the [1,2,8,8] consumer (it would be recomputed 16 times); it stays its own
// fused op, computed once, and is an input of the consumer.
// CHECK-LABEL: func.func @broadcast
// CHECK: %[[M:.*]] = canao.fused(%arg1) : (tensor<1x1x1x8xf32>) -> tensor<1x1x1x8xf32>
// CHECK: canao.fused(%arg0, %[[M]]) : (tensor<1x2x8x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x2x8x8xf32>
func.func @broadcast(%s: tensor<1x2x8x8xf32>, %m: tensor<1x1x1x8xf32>) -> tensor<1x2x8x8xf32> {
  %c = canao.constant dense<-10000.0> : tensor<f32>
  %scale = canao.constant dense<0.125> : tensor<f32>
  %0 = canao.mul %m, %c : (tensor<1x1x1x8xf32>, tensor<f32>) -> tensor<1x1x1x8xf32>
  %1 = canao.mul %s, %scale : (tensor<1x2x8x8xf32>, tensor<f32>) -> tensor<1x2x8x8xf32>
  %2 = canao.add %1, %0 : (tensor<1x2x8x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x2x8x8xf32>
  return %2 : tensor<1x2x8x8xf32>
}
