// RUN: canao-opt %s --canao-raise-embedding --split-input-file | FileCheck %s

// word + token-type lookups + (folded) position embeddings + LayerNorm.
// CHECK-LABEL: func.func @embedding
// CHECK: %[[E:.*]] = canao.embedding tables(%{{.*}}, %{{.*}}) indices(%arg0, %arg1) addends(%{{.*}}) layer_norm(%{{.*}}, %{{.*}}) {ln_epsilon = 9.99999996E-13 : f32}
// CHECK-NOT: canao.gather
// CHECK: return %[[E]]
func.func @embedding(%ids: tensor<1x4xi64>, %types: tensor<1x4xi64>) -> tensor<1x4x8xf32> {
  %word = canao.constant dense<0.5> : tensor<10x8xf32>
  %type = canao.constant dense<0.25> : tensor<2x8xf32>
  %pos = canao.constant dense<0.125> : tensor<1x4x8xf32>
  %g = canao.constant dense<1.0> : tensor<8xf32>
  %b = canao.constant dense<0.0> : tensor<8xf32>
  %0 = canao.gather %word[%ids] {axis = 0 : i64} : (tensor<10x8xf32>, tensor<1x4xi64>) -> tensor<1x4x8xf32>
  %1 = canao.gather %type[%types] {axis = 0 : i64} : (tensor<2x8xf32>, tensor<1x4xi64>) -> tensor<1x4x8xf32>
  %2 = canao.add %0, %1 : (tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %3 = canao.add %2, %pos : (tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %4 = canao.layer_norm %3, %g, %b {axis = 2 : i64, epsilon = 9.99999996E-13 : f32} : (tensor<1x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
  return %4 : tensor<1x4x8xf32>
}

// -----

// Negative: a runtime addend (not a lookup, not a constant) is no embedding.
// CHECK-LABEL: func.func @runtime_addend
// CHECK-NOT: canao.embedding
func.func @runtime_addend(%ids: tensor<1x4xi64>, %h: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %word = canao.constant dense<0.5> : tensor<10x8xf32>
  %g = canao.constant dense<1.0> : tensor<8xf32>
  %b = canao.constant dense<0.0> : tensor<8xf32>
  %0 = canao.gather %word[%ids] {axis = 0 : i64} : (tensor<10x8xf32>, tensor<1x4xi64>) -> tensor<1x4x8xf32>
  %1 = canao.add %0, %h : (tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %2 = canao.layer_norm %1, %g, %b {axis = 2 : i64, epsilon = 1.0e-5 : f32} : (tensor<1x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
  return %2 : tensor<1x4x8xf32>
}

// -----

// Position ids [1, S] looked up for a batch of 2: the lookup broadcasts.
// CHECK-LABEL: func.func @broadcast_positions
// CHECK: canao.embedding tables(%{{.*}}, %{{.*}}) indices(%arg0, %{{.*}}) addends() layer_norm
// CHECK-SAME: (tensor<10x8xf32>, tensor<16x8xf32>, tensor<2x4xi64>, tensor<1x4xi64>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
func.func @broadcast_positions(%ids: tensor<2x4xi64>) -> tensor<2x4x8xf32> {
  %word = canao.constant dense<0.5> : tensor<10x8xf32>
  %posTable = canao.constant dense<0.125> : tensor<16x8xf32>
  %posIds = canao.constant dense<[[0, 1, 2, 3]]> : tensor<1x4xi64>
  %g = canao.constant dense<1.0> : tensor<8xf32>
  %b = canao.constant dense<0.0> : tensor<8xf32>
  %0 = canao.gather %word[%ids] {axis = 0 : i64} : (tensor<10x8xf32>, tensor<2x4xi64>) -> tensor<2x4x8xf32>
  %1 = canao.gather %posTable[%posIds] {axis = 0 : i64} : (tensor<16x8xf32>, tensor<1x4xi64>) -> tensor<1x4x8xf32>
  %2 = canao.add %0, %1 : (tensor<2x4x8xf32>, tensor<1x4x8xf32>) -> tensor<2x4x8xf32>
  %3 = canao.layer_norm %2, %g, %b {axis = 2 : i64, epsilon = 1.0e-5 : f32} : (tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  return %3 : tensor<2x4x8xf32>
}

// -----

// RoBERTa's padding-aware position ids (cumsum of the non-padding mask,
// times the mask, plus padding_idx 1) fold into the embedding.
// CHECK-LABEL: func.func @padded_positions
// CHECK: canao.embedding tables(%{{.*}}, %{{.*}}) indices(%arg0, %arg0) addends() layer_norm(%{{.*}}, %{{.*}}) {ln_epsilon = 9.99999974E-6 : f32, padding_idx = 1 : i64, position_table = 1 : i64}
// CHECK-NOT: canao.cumsum
func.func @padded_positions(%ids: tensor<2x4xi64>) -> tensor<2x4x8xf32> {
  %word = canao.constant dense<0.5> : tensor<10x8xf32>
  %posTable = canao.constant dense<0.125> : tensor<6x8xf32>
  %pad = canao.constant dense<1> : tensor<i64>
  %g = canao.constant dense<1.0> : tensor<8xf32>
  %b = canao.constant dense<0.0> : tensor<8xf32>
  %eq = canao.equal %ids, %pad : (tensor<2x4xi64>, tensor<i64>) -> tensor<2x4xi1>
  %ne = canao.not %eq : tensor<2x4xi1>
  %m = canao.cast %ne : tensor<2x4xi1> to tensor<2x4xi32>
  %c = canao.cumsum %m {axis = 1 : i64, exclusive = false, reverse = false} : tensor<2x4xi32>
  %cm = canao.mul %c, %m : (tensor<2x4xi32>, tensor<2x4xi32>) -> tensor<2x4xi32>
  %c64 = canao.cast %cm : tensor<2x4xi32> to tensor<2x4xi64>
  %pos = canao.add %c64, %pad : (tensor<2x4xi64>, tensor<i64>) -> tensor<2x4xi64>
  %0 = canao.gather %word[%ids] {axis = 0 : i64} : (tensor<10x8xf32>, tensor<2x4xi64>) -> tensor<2x4x8xf32>
  %1 = canao.gather %posTable[%pos] {axis = 0 : i64} : (tensor<6x8xf32>, tensor<2x4xi64>) -> tensor<2x4x8xf32>
  %2 = canao.add %0, %1 : (tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %3 = canao.layer_norm %2, %g, %b {axis = 2 : i64, epsilon = 1.0e-5 : f32} : (tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  return %3 : tensor<2x4x8xf32>
}

// -----

// Negative: a position table too short for padding_idx + S keeps the
// explicit computation (whose gather checks its indices at run time).
// CHECK-LABEL: func.func @short_position_table
// CHECK: canao.cumsum
// CHECK: canao.embedding
// CHECK-NOT: position_table
func.func @short_position_table(%ids: tensor<2x4xi64>) -> tensor<2x4x8xf32> {
  %word = canao.constant dense<0.5> : tensor<10x8xf32>
  %posTable = canao.constant dense<0.125> : tensor<5x8xf32>
  %pad = canao.constant dense<1> : tensor<i64>
  %g = canao.constant dense<1.0> : tensor<8xf32>
  %b = canao.constant dense<0.0> : tensor<8xf32>
  %eq = canao.equal %ids, %pad : (tensor<2x4xi64>, tensor<i64>) -> tensor<2x4xi1>
  %ne = canao.not %eq : tensor<2x4xi1>
  %m = canao.cast %ne : tensor<2x4xi1> to tensor<2x4xi32>
  %c = canao.cumsum %m {axis = 1 : i64, exclusive = false, reverse = false} : tensor<2x4xi32>
  %cm = canao.mul %c, %m : (tensor<2x4xi32>, tensor<2x4xi32>) -> tensor<2x4xi32>
  %c64 = canao.cast %cm : tensor<2x4xi32> to tensor<2x4xi64>
  %pos = canao.add %c64, %pad : (tensor<2x4xi64>, tensor<i64>) -> tensor<2x4xi64>
  %0 = canao.gather %word[%ids] {axis = 0 : i64} : (tensor<10x8xf32>, tensor<2x4xi64>) -> tensor<2x4x8xf32>
  %1 = canao.gather %posTable[%pos] {axis = 0 : i64} : (tensor<5x8xf32>, tensor<2x4xi64>) -> tensor<2x4x8xf32>
  %2 = canao.add %0, %1 : (tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %3 = canao.layer_norm %2, %g, %b {axis = 2 : i64, epsilon = 1.0e-5 : f32} : (tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  return %3 : tensor<2x4x8xf32>
}
