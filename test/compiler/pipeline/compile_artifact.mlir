// Tests that kiln-compile -o writes a .kiln artifact of a component that the
// runtime opens: its entry, its dims with the ranges the limits flags give,
// its kernels and metadata; that --dump-ir-after prints the module after the
// named pass; and that the flags fail clearly.
// RUN: rm -rf %t && mkdir -p %t
// RUN: kiln-compile %kiln_src_root/test/goldens/tiny-flux --component=text_encoder -o %t/clip.kiln --max-batch 2
// RUN: kiln inspect %t/clip.kiln | FileCheck %s
// RUN: kiln-compile %kiln_src_root/test/goldens/tiny-flux --component=text_encoder --emit=dispatches --dump-ir-after=kiln-isolate-entry-results 2>&1 >/dev/null | FileCheck %s --check-prefix=DUMP
// RUN: not kiln-compile %kiln_src_root/test/goldens/tiny-flux --component=text_encoder --emit=artifact 2>&1 | FileCheck %s --check-prefix=NOOUT
// RUN: not kiln-compile %kiln_src_root/test/goldens/tiny-flux --component=text_encoder -o %t/no/such/dir/x.kiln 2>&1 | FileCheck %s --check-prefix=NODIR
// RUN: not kiln-compile %kiln_src_root/test/goldens/tiny-flux -o %t/x.kiln --max-references=-1 2>&1 | FileCheck %s --check-prefix=LIMITS

// CHECK: producer  kiln-compile 0.1
// CHECK: format    1.4
// CHECK: clip_text_encoder.input_ids[0]  1..2
// CHECK: clip_text_encoder.input_ids[1]  1..77
// CHECK: clip_text_encoder
// CHECK: input_ids          I64
// CHECK: last_hidden_state  F32
// CHECK: pooler_output      F32
// CHECK: arena {{.*}} bytes
// CHECK: features: avx avx2
// CHECK: tokenizer/vocab.json
// CHECK: tokenizer_2/spiece.model
// CHECK: kiln/limits.json

// DUMP: IR Dump After IsolateEntryResultsPass (kiln-isolate-entry-results)
// DUMP: func.func @clip_text_encoder

// NOOUT: --emit=artifact writes a binary file: give -o FILE
// NODIR: x.kiln: cannot create a temporary file in
// LIMITS: limits must be positive
