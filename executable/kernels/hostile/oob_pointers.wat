;; Hostile: passes out-of-bounds pointers to host functions (each returns
;; -6, reported through write_debug), then loads past the end of memory
;; itself: a recoverable trap (stuck flag, side effects kept).
(module
  (import "smart_rollup_core" "read_input"
    (func $read_input (param i32 i32 i32) (result i32)))
  (import "smart_rollup_core" "write_output"
    (func $write_output (param i32 i32) (result i32)))
  (import "smart_rollup_core" "store_write"
    (func $store_write (param i32 i32 i32 i32 i32) (result i32)))
  (import "smart_rollup_core" "store_has" (func $store_has (param i32 i32) (result i32)))
  (import "smart_rollup_core" "write_debug" (func $write_debug (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "/hostile")
  (func $report (param i32)
    (i32.store (i32.const 0) (local.get 0))
    (call $write_debug (i32.const 0) (i32.const 4)))
  (func (export "kernel_run")
    (call $report (call $read_input (i32.const -16) (i32.const 64) (i32.const 4096)))
    (call $report (call $read_input (i32.const 8) (i32.const 65000) (i32.const 4096)))
    (call $report (call $write_output (i32.const 65530) (i32.const 100)))
    (call $report (call $store_write (i32.const 100) (i32.const 8) (i32.const 0)
                                     (i32.const 65535) (i32.const 2)))
    (call $report (call $store_has (i32.const -1) (i32.const 8)))
    (call $write_debug (i32.const -100) (i32.const 1000))
    (drop (call $store_write (i32.const 100) (i32.const 8) (i32.const 0)
                             (i32.const 100) (i32.const 8)))
    (drop (i32.load (i32.const 65536)))))
