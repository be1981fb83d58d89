;; Installer kernel (reveal-based, in the spirit of Octez's installer
;; kernel, src/kernel_sdk/installer-kernel): the last 33 bytes of its own
;; binary (a custom section appended by the build) are the root hash of the
;; next stage, split into DAC pages (tag 00 content page, tag 01 page of
;; 33-byte hashes of content pages; 1-byte tag, 4-byte big-endian length,
;; body). It reveals the pages, writes their bodies in order at
;; /installer/kernel/boot.wasm, moves that to /kernel/boot.wasm and asks for a
;; reboot. It reads no input, so the next stage sees the whole inbox of the
;; level. On error it writes a debug message and yields.
(module
  (import "smart_rollup_core" "store_value_size"
    (func $store_value_size (param i32 i32) (result i32)))
  (import "smart_rollup_core" "store_read"
    (func $store_read (param i32 i32 i32 i32 i32) (result i32)))
  (import "smart_rollup_core" "store_write"
    (func $store_write (param i32 i32 i32 i32 i32) (result i32)))
  (import "smart_rollup_core" "store_move"
    (func $store_move (param i32 i32 i32 i32) (result i32)))
  (import "smart_rollup_core" "reveal_preimage"
    (func $reveal_preimage (param i32 i32 i32 i32) (result i32)))
  (import "smart_rollup_core" "write_debug"
    (func $write_debug (param i32 i32)))
  (memory (export "memory") 2)
  (data (i32.const 0) "/kernel/boot.wasm")             ;; 17 bytes
  (data (i32.const 32) "/installer/kernel/boot.wasm")  ;; 27 bytes
  (data (i32.const 64) "/kernel/env/reboot")           ;; 18 bytes
  (data (i32.const 96) "installer: bad page")          ;; 19 bytes
  (data (i32.const 128) "installer: reveal failed")    ;; 24 bytes
  ;; 160..193 root hash; 200..233 current hash; 256.. root page (4096);
  ;; 8192.. content page (4096); 12288: written offset (i32).
  (func $fail (param $msg i32) (param $len i32) (result i32)
    (call $write_debug (local.get $msg) (local.get $len))
    (i32.const 0))
  ;; Append the body of the content page at $page (n bytes revealed).
  (func $append (param $page i32) (param $n i32) (result i32)
    (local $len i32) (local $pos i32) (local $chunk i32)
    (if (i32.or (i32.lt_s (local.get $n) (i32.const 5))
                (i32.ne (i32.load8_u (local.get $page)) (i32.const 0)))
      (then (return (call $fail (i32.const 96) (i32.const 19)))))
    (local.set $len (i32.sub (local.get $n) (i32.const 5)))
    (loop $more
      (if (i32.lt_s (local.get $pos) (local.get $len))
        (then
          (local.set $chunk (i32.sub (local.get $len) (local.get $pos)))
          (if (i32.gt_s (local.get $chunk) (i32.const 2048))
            (then (local.set $chunk (i32.const 2048))))
          (if (i32.ne (call $store_write (i32.const 32) (i32.const 27)
                        (i32.load (i32.const 12288))
                        (i32.add (i32.add (local.get $page) (i32.const 5)) (local.get $pos))
                        (local.get $chunk))
                      (i32.const 0))
            (then (return (call $fail (i32.const 96) (i32.const 19)))))
          (i32.store (i32.const 12288)
            (i32.add (i32.load (i32.const 12288)) (local.get $chunk)))
          (local.set $pos (i32.add (local.get $pos) (local.get $chunk)))
          (br $more))))
    (i32.const 1))
  (func (export "kernel_run")
    (local $size i32) (local $n i32) (local $i i32) (local $m i32)
    (local.set $size (call $store_value_size (i32.const 0) (i32.const 17)))
    (drop (call $store_read (i32.const 0) (i32.const 17)
                            (i32.sub (local.get $size) (i32.const 33))
                            (i32.const 160) (i32.const 33)))
    (local.set $n (call $reveal_preimage (i32.const 160) (i32.const 33)
                                         (i32.const 256) (i32.const 4096)))
    (if (i32.lt_s (local.get $n) (i32.const 5))
      (then (drop (call $fail (i32.const 128) (i32.const 24))) (return)))
    (if (i32.eq (i32.load8_u (i32.const 256)) (i32.const 1))
      (then
        ;; hash page: reveal every content page it lists, in order
        (local.set $i (i32.const 0))
        (loop $pages
          (if (i32.lt_s (i32.add (local.get $i) (i32.const 5)) (local.get $n))
            (then
              (memory.copy (i32.const 200)
                           (i32.add (i32.const 261) (local.get $i)) (i32.const 33))
              (local.set $m (call $reveal_preimage (i32.const 200) (i32.const 33)
                                                   (i32.const 8192) (i32.const 4096)))
              (if (i32.eqz (call $append (i32.const 8192) (local.get $m))) (then (return)))
              (local.set $i (i32.add (local.get $i) (i32.const 33)))
              (br $pages)))))
      (else
        (if (i32.eqz (call $append (i32.const 256) (local.get $n))) (then (return)))))
    (drop (call $store_move (i32.const 32) (i32.const 27) (i32.const 0) (i32.const 17)))
    (i32.store8 (i32.const 12292) (i32.const 0))
    (drop (call $store_write (i32.const 64) (i32.const 18) (i32.const 0)
                             (i32.const 12292) (i32.const 1)))))
