// Tests the out-of-tree plugin inside Kiln's tools: kiln-opt loads it and
// runs its pass (two scalar scales become one; other chains stay), refuses
// a plugin built against another Kiln version, and kiln-compile runs it at
// the kiln extension point of its pipeline.
// RUN: kiln-opt --load-pass-plugin=%plugin --kiln-example-fold-scales %s | FileCheck %s
// RUN: kiln-opt --load-pass-plugin %plugin --help | FileCheck %s --check-prefix=HELP
// RUN: not kiln-opt --load-pass-plugin=%other_version_plugin --kiln-example-fold-scales %s 2>&1 | FileCheck %s --check-prefix=VERSION
// RUN: not kiln-opt --load-pass-plugin=%s.missing.so %s 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: kiln-compile %kiln_src_root/test/goldens/tiny-flux --component=vae --load-pass-plugin=%plugin --pass-pipeline-extension=kiln=kiln-example-fold-scales --dump-ir-after=kiln-example-fold-scales --emit=linalg 2>&1 >/dev/null | FileCheck %s --check-prefix=COMPILE
// RUN: not kiln-compile %kiln_src_root/test/goldens/tiny-flux --component=vae --pass-pipeline-extension=kiln=kiln-example-fold-scales --emit=linalg 2>&1 | FileCheck %s --check-prefix=NOTLOADED

// CHECK-LABEL: func.func @two_scales
// CHECK-SAME: (%[[X:.+]]: tensor<?x4xf32>)
// CHECK: %[[S:.+]] = arith.constant dense<6.000000e+00> : tensor<f32>
// CHECK: %[[Y:.+]] = kiln.mul %[[X]], %[[S]]
// CHECK-NOT: kiln.mul
// CHECK: return %[[Y]]
func.func @two_scales(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %c2 = arith.constant dense<2.0> : tensor<f32>
  %c3 = arith.constant dense<3.0> : tensor<f32>
  %a = kiln.mul %x, %c2 : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  %b = kiln.mul %a, %c3 : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  return %b : tensor<?x4xf32>
}

// A per-channel scale is not a scalar: both multiplies stay.
// CHECK-LABEL: func.func @channel_scale
// CHECK: kiln.mul
// CHECK: kiln.mul
func.func @channel_scale(%x: tensor<?x4xf32>, %g: tensor<4xf32>) -> tensor<?x4xf32> {
  %c2 = arith.constant dense<2.0> : tensor<f32>
  %a = kiln.mul %x, %g : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  %b = kiln.mul %a, %c2 : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  return %b : tensor<?x4xf32>
}

// HELP: --kiln-example-fold-scales
// HELP-SAME: Folds (x * c1) * c2

// VERSION: KilnExampleOtherVersion.so: the pass plugin was built against Kiln 0.0.1, but this is Kiln 0.1.0; rebuild it against this Kiln's install

// MISSING: cannot load the pass plugin

// COMPILE: IR Dump After {{.*}}FoldScalesPass (kiln-example-fold-scales)
// COMPILE: func.func @vae_decode

// NOTLOADED: 'kiln-example-fold-scales' does not refer to a registered pass
