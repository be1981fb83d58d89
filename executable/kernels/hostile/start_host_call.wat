;; Hostile: calls a host function from its start function, which the PVM
;; forbids during initialisation: an init error.
(module
  (import "smart_rollup_core" "write_debug" (func $write_debug (param i32 i32)))
  (memory (export "memory") 1)
  (func $init (call $write_debug (i32.const 0) (i32.const 1)))
  (start $init)
  (func (export "kernel_run")))
