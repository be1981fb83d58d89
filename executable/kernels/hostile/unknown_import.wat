;; Hostile: imports a host function no revision offers: a link error.
(module
  (import "smart_rollup_core" "launch_missiles" (func $launch (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "kernel_run") (drop (call $launch (i32.const 1)))))
