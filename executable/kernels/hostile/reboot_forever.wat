;; Hostile: asks for a reboot at every kernel_run. The PVM allows 1,000
;; reboots per level, then forces a yield and sets
;; /readonly/kernel/env/too_many_reboot.
(module
  (import "smart_rollup_core" "store_write"
    (func $store_write (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "/kernel/env/reboot")
  (func (export "kernel_run")
    (drop (call $store_write (i32.const 0) (i32.const 18) (i32.const 0)
                             (i32.const 32) (i32.const 1)))))
