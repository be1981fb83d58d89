;; Counter kernel: keeps a little-endian u64 at /counter in durable storage,
;; adds one per inbox message read, and requests a reboot after every
;; external message so that the rest of the level is read by a fresh
;; instance (exercising reboots). At the end of each level it writes the
;; counter to the outbox and a debug line.
(module
  (import "smart_rollup_core" "read_input"
    (func $read_input (param i32 i32 i32) (result i32)))
  (import "smart_rollup_core" "write_output"
    (func $write_output (param i32 i32) (result i32)))
  (import "smart_rollup_core" "write_debug"
    (func $write_debug (param i32 i32)))
  (import "smart_rollup_core" "store_read"
    (func $store_read (param i32 i32 i32 i32 i32) (result i32)))
  (import "smart_rollup_core" "store_write"
    (func $store_write (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "/counter")            ;; 8 bytes
  (data (i32.const 120) "/kernel/env/reboot")  ;; 18 bytes
  (data (i32.const 140) "counter at end of level")  ;; 23 bytes
  ;; 0..8 info; 16..24 counter value; 200.. message buffer.
  (func $load_counter
    (i64.store (i32.const 16) (i64.const 0))
    (drop (call $store_read (i32.const 100) (i32.const 8) (i32.const 0)
                            (i32.const 16) (i32.const 8))))
  (func $save_counter
    (drop (call $store_write (i32.const 100) (i32.const 8) (i32.const 0)
                             (i32.const 16) (i32.const 8))))
  (func (export "kernel_run")
    (local $n i32)
    (call $load_counter)
    (block $done
      (loop $next
        (local.set $n (call $read_input (i32.const 0) (i32.const 200) (i32.const 4096)))
        (br_if $done (i32.le_s (local.get $n) (i32.const 0)))
        (i64.store (i32.const 16) (i64.add (i64.load (i32.const 16)) (i64.const 1)))
        (if (i32.eq (i32.load8_u (i32.const 200)) (i32.const 1))
          (then
            (call $save_counter)
            ;; reboot request: any value at /kernel/env/reboot (SDK writes 0x00)
            (i32.store8 (i32.const 24) (i32.const 0))
            (drop (call $store_write (i32.const 120) (i32.const 18) (i32.const 0)
                                     (i32.const 24) (i32.const 1)))
            (return)))
        (br $next)))
    (call $save_counter)
    (drop (call $write_output (i32.const 16) (i32.const 8)))
    (call $write_debug (i32.const 140) (i32.const 23))))
