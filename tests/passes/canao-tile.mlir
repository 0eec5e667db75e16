// RUN: canao-opt %s --pass-pipeline='builtin.module(func.func(canao-tile{target=x86-avx512}))' | FileCheck %s --check-prefix=AVX512
// RUN: canao-opt %s --pass-pipeline='builtin.module(func.func(canao-tile{target=generic}))' | FileCheck %s --check-prefix=GENERIC
// RUN: canao-opt %s --pass-pipeline='builtin.module(func.func(canao-tile{target=x86-avx2}))' | FileCheck %s --check-prefix=AVX2
// RUN: canao-opt %s --pass-pipeline='builtin.module(func.func(canao-tile{target=x86-avx2 l2=524288}))' | FileCheck %s --check-prefix=ZEN3
// RUN: canao-opt %s --pass-pipeline='builtin.module(func.func(canao-tile{target=x86-avx512 mr=6 nr=64 kc=256}))' | FileCheck %s --check-prefix=TUNED
// RUN: canao-opt %s --pass-pipeline='builtin.module(func.func(canao-tile{target=x86-avx2 mr=4 nr=24 kc=512 pf=3}))' | FileCheck %s --check-prefix=TUNEDPF
// RUN: not canao-opt %s --pass-pipeline='builtin.module(func.func(canao-tile{target=generic mr=12 nr=32}))' 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: canao-opt %s --pass-pipeline='builtin.module(func.func(canao-tile{target=x86-avx2 ln-split=panels}))' | FileCheck %s --check-prefix=LNPANELS
// RUN: not canao-opt %s --pass-pipeline='builtin.module(func.func(canao-tile{target=x86-avx2 ln-split=diagonal}))' 2>&1 | FileCheck %s --check-prefix=BADSPLIT
// RUN: canao-opt %s --pass-pipeline='builtin.module(func.func(canao-tile{target=neon}))' | FileCheck %s --check-prefix=NEON

// Each dense gets a microkernel of the target, its register tile and k
// block (at most its K), a row block mc that keeps a packed mc x kc block
// of A in 3/4 of L2 (x86-avx512: 2 MiB L2, kc 768 -> 504 rows; generic:
// 1 MiB, kc 512 -> 384) and pf, log2 of the tiles that prefetch the next
// weight panel. The tile is the table's default unless another of the
// target's pads at least 5% less work: on x86-avx2, N = 128 pads to 144 on
// 4x24 and runs on 6x16. K = 96 clamps kc and leaves room for rows.
// Attention gets the register tile its two GEMMs run on.
// AVX512-LABEL: func.func @tiles
// AVX512: canao.dense {{.*}} {canao.tile = {a = "packed", kc = 768 : i64, kernel = "f32_gemm_12x32_avx512", mc = 504 : i64, mr = 12 : i64, nr = 32 : i64, pf = 3 : i64, split = "panels"}}
// AVX512: canao.dense {{.*}} {canao.tile = {a = "packed", kc = 96 : i64, kernel = "f32_gemm_12x32_avx512", mc = 4092 : i64, mr = 12 : i64, nr = 32 : i64, pf = 3 : i64, split = "panels"}}
// AVX512: canao.attention{{.*}} {canao.tile = {a = "packed", kernel = "f32_gemm_12x32_avx512", mr = 12 : i64, nr = 32 : i64}, num_heads = 1 : i64
// AVX512: canao.dense {{.*}} {canao.tile = {a = "packed", kc = 96 : i64, kernel = "f32_gemm_12x32_avx512"
// AVX2 runs dense on 4x24 but attention on 6x16: 16 divides the head dim.
// Its 6x16 kernel reads A in place (a = "direct": packing 6 rows does not
// vectorize); 4x24 and the other targets' kernels read a packed copy.
// AVX2-LABEL: func.func @tiles
// AVX2: canao.dense {{.*}} {canao.tile = {a = "packed", kc = 768 : i64, kernel = "f32_gemm_4x24_avx2", mc = 256 : i64, mr = 4 : i64, nr = 24 : i64, pf = 2 : i64, split = "panels"}}
// AVX2: canao.dense {{.*}} {canao.tile = {a = "packed", kc = 96 : i64, kernel = "f32_gemm_4x24_avx2", mc = 2048 : i64, mr = 4 : i64, nr = 24 : i64, pf = 2 : i64, split = "panels"}}
// AVX2: canao.attention{{.*}} {canao.tile = {a = "direct", kernel = "f32_gemm_6x16_avx2", mr = 6 : i64, nr = 16 : i64}
// AVX2: canao.dense {{.*}} {canao.tile = {a = "direct", kc = 96 : i64, kernel = "f32_gemm_6x16_avx2", mc = 2046 : i64, mr = 6 : i64, nr = 16 : i64, pf = 2 : i64, split = "panels"}}
// The machine's own L2 (canaoc --target host passes it): 512 KiB -> 128 rows.
// ZEN3-LABEL: func.func @tiles
// ZEN3: canao.dense {{.*}} {canao.tile = {a = "packed", kc = 768 : i64, kernel = "f32_gemm_4x24_avx2", mc = 128 : i64, mr = 4 : i64, nr = 24 : i64, pf = 2 : i64, split = "panels"}}
// GENERIC-LABEL: func.func @tiles
// GENERIC: canao.dense {{.*}} {canao.tile = {a = "packed", kc = 512 : i64, kernel = "f32_gemm_4x8_generic", mc = 384 : i64, mr = 4 : i64, nr = 8 : i64, pf = 3 : i64, split = "panels"}}
// GENERIC: canao.attention{{.*}}kernel = "f32_gemm_4x8_generic"
// NEON-LABEL: func.func @tiles
// The A76-sized table: 8x8 (16 accumulators of 32 registers), kc 256 (a
// 128 KiB packed block in a 256 KiB L2).
// NEON: canao.dense {{.*}} {canao.tile = {a = "packed", kc = 256 : i64, kernel = "f32_gemm_8x8_neon", mc = 192 : i64, mr = 8 : i64, nr = 8 : i64, pf = 3 : i64, split = "panels"}}
// NEON: canao.attention{{.*}}kernel = "f32_gemm_8x8_neon"
// A tuning file's choice (canaoc --tuning) overrides the table for every
// dense, whatever its shape.
// TUNED: canao.dense {{.*}} {canao.tile = {a = "packed", kc = 256 : i64, kernel = "f32_gemm_6x64_avx512", mc = 1536 : i64, mr = 6 : i64, nr = 64 : i64, pf = 3 : i64, split = "panels"}}
// TUNED: canao.dense {{.*}} {canao.tile = {a = "packed", kc = 96 : i64, kernel = "f32_gemm_6x64_avx512"
// TUNED: canao.attention{{.*}} {canao.tile = {a = "packed", kernel = "f32_gemm_12x32_avx512", mr = 12 : i64, nr = 32 : i64}
// TUNED: canao.dense {{.*}} {canao.tile = {a = "packed", kc = 96 : i64, kernel = "f32_gemm_6x64_avx512"
// A tuned prefetch spread (the file's "pf") replaces the table's.
// TUNEDPF: canao.dense {{.*}} {canao.tile = {a = "packed", kc = 512 : i64, kernel = "f32_gemm_4x24_avx2", mc = 384 : i64, mr = 4 : i64, nr = 24 : i64, pf = 3 : i64, split = "panels"}}
// BAD: error: canao-tile: target generic has no microkernel with a 12x32 tile
// A dense with a LayerNorm epilogue splits row tiles across threads (each
// thread normalizes its own rows as soon as they are final); others split
// W panels.
// AVX2-LABEL: func.func @layer_norm_rows
// AVX2: canao.dense {{.*}} layer_norm({{.*}}) {canao.tile = {a = "direct", kc = 64 : i64, kernel = "f32_gemm_6x16_avx2", {{.*}}, split = "rows"}
// A tuning file's ln-split=panels keeps the panel split for them too.
// LNPANELS-LABEL: func.func @layer_norm_rows
// LNPANELS: canao.dense {{.*}} layer_norm({{.*}}) {canao.tile = {{{.*}}split = "panels"}
// BADSPLIT: error: canao-tile: ln-split must be rows or panels, not 'diagonal'
// GENERIC-LABEL: func.func @layer_norm_rows
// GENERIC: canao.dense {{.*}} layer_norm({{.*}}) {canao.tile = {{{.*}}split = "rows"}
func.func @tiles(%x: tensor<1x96x1024xf32>, %m: tensor<1x1x1x96xf32>) -> (tensor<1x96x8xf32>, tensor<1x96x128xf32>) {
  %w1 = canao.constant dense<0.5> : tensor<1024x96xf32>
  %h = canao.dense %x, %w1 : (tensor<1x96x1024xf32>, tensor<1024x96xf32>) -> tensor<1x96x96xf32> {}
  %w = canao.constant dense<1.0> : tensor<96x24xf32>
  %b = canao.constant dense<0.5> : tensor<24xf32>
  %qkv = canao.dense %h, %w bias %b : (tensor<1x96x96xf32>, tensor<96x24xf32>, tensor<24xf32>) -> tensor<1x96x24xf32> {}
  %a = canao.attention(%qkv) mask %m {num_heads = 1 : i64, scale = 1.0 : f32} : (tensor<1x96x24xf32>, tensor<1x1x1x96xf32>) -> tensor<1x96x8xf32>
  %w3 = canao.constant dense<0.25> : tensor<96x128xf32>
  %y = canao.dense %h, %w3 : (tensor<1x96x96xf32>, tensor<96x128xf32>) -> tensor<1x96x128xf32> {}
  return %a, %y : tensor<1x96x8xf32>, tensor<1x96x128xf32>
}

func.func @layer_norm_rows(%x: tensor<1x96x64xf32>, %r: tensor<1x96x128xf32>) -> tensor<1x96x128xf32> {
  %w = canao.constant dense<0.5> : tensor<64x128xf32>
  %g = canao.constant dense<1.0> : tensor<128xf32>
  %beta = canao.constant dense<0.0> : tensor<128xf32>
  %y = canao.dense %x, %w extra(%r) layer_norm(%g, %beta) {ln_epsilon = 9.99999996E-13 : f32} : (tensor<1x96x64xf32>, tensor<64x128xf32>, tensor<1x96x128xf32>, tensor<128xf32>, tensor<128xf32>) -> tensor<1x96x128xf32> {
  ^bb0(%acc: f32, %res: f32):
    %s = arith.addf %res, %acc : f32
    canao.yield %s : f32
  }
  return %y : tensor<1x96x128xf32>
}
