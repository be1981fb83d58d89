;; Hostile: writes an output larger than 4,096 bytes (-7), then 101 outputs
;; in one level (the 101st is -11: full outbox). Every return code is
;; reported through write_debug as a little-endian i32.
(module
  (import "smart_rollup_core" "write_output"
    (func $write_output (param i32 i32) (result i32)))
  (import "smart_rollup_core" "write_debug" (func $write_debug (param i32 i32)))
  (memory (export "memory") 1)
  (func $report (param i32)
    (i32.store (i32.const 0) (local.get 0))
    (call $write_debug (i32.const 0) (i32.const 4)))
  (func (export "kernel_run")
    (local $i i32)
    (call $report (call $write_output (i32.const 16) (i32.const 4097)))
    (loop $again
      (call $report (call $write_output (i32.const 16) (i32.const 8)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 101))))))
