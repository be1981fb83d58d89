;; Echo kernel: reads every inbox message with `read_input` until it returns
;; 0 (as Rust SDK kernels do) and writes the payload of every external
;; message (tag 0x01) to the outbox. Keeps no state.
(module
  (import "smart_rollup_core" "read_input"
    (func $read_input (param i32 i32 i32) (result i32)))
  (import "smart_rollup_core" "write_output"
    (func $write_output (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; 0..8: message info (level, id); 64..4160: message buffer.
  (func (export "kernel_run")
    (local $n i32)
    (loop $next
      (local.set $n (call $read_input (i32.const 0) (i32.const 64) (i32.const 4096)))
      (if (i32.gt_s (local.get $n) (i32.const 0))
        (then
          (if (i32.eq (i32.load8_u (i32.const 64)) (i32.const 1))
            (then
              (drop (call $write_output (i32.const 65)
                                        (i32.sub (local.get $n) (i32.const 1))))))
          (br $next))))))
