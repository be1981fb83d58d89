;; Exercises every host function of revision 2.0.0-r3 and later, on its
;; success path and on every error code, in Octez's precedence order. Each
;; return value is reported through write_debug as a little-endian i32, in
;; the order below; tests/executable/test_kernels.py holds the expected list.
;; Run it on a level whose inbox is [SOL, IPL, EOL] (nothing preloaded).
(module
  (type $i2 (func (param i32 i32) (result i32)))
  (import "smart_rollup_core" "read_input" (func $read_input (param i32 i32 i32) (result i32)))
  (import "smart_rollup_core" "write_output" (func $write_output (type $i2)))
  (import "smart_rollup_core" "write_debug" (func $write_debug (param i32 i32)))
  (import "smart_rollup_core" "store_has" (func $store_has (type $i2)))
  (import "smart_rollup_core" "store_list_size" (func $store_list_size (param i32 i32) (result i64)))
  (import "smart_rollup_core" "store_get_nth_key"
    (func $store_get_nth_key (param i32 i32 i64 i32 i32) (result i32)))
  (import "smart_rollup_core" "store_delete" (func $store_delete (type $i2)))
  (import "smart_rollup_core" "store_delete_value" (func $store_delete_value (type $i2)))
  (import "smart_rollup_core" "store_copy" (func $store_copy (param i32 i32 i32 i32) (result i32)))
  (import "smart_rollup_core" "store_move" (func $store_move (param i32 i32 i32 i32) (result i32)))
  (import "smart_rollup_core" "store_value_size" (func $store_value_size (type $i2)))
  (import "smart_rollup_core" "store_read" (func $store_read (param i32 i32 i32 i32 i32) (result i32)))
  (import "smart_rollup_core" "store_write" (func $store_write (param i32 i32 i32 i32 i32) (result i32)))
  (import "smart_rollup_core" "store_create" (func $store_create (param i32 i32 i32) (result i32)))
  (import "smart_rollup_core" "store_exists" (func $store_exists (type $i2)))
  (import "smart_rollup_core" "__internal_store_get_hash"
    (func $store_get_hash (param i32 i32 i32 i32) (result i32)))
  (import "smart_rollup_core" "reveal_preimage" (func $reveal_preimage (param i32 i32 i32 i32) (result i32)))
  (import "smart_rollup_core" "reveal_metadata" (func $reveal_metadata (type $i2)))
  (import "smart_rollup_core" "reveal" (func $reveal (param i32 i32 i32 i32) (result i32)))
  (memory (export "mem") 1)
  (data (i32.const 100) "/a")           ;; 2
  (data (i32.const 110) "/a/b")         ;; 4
  (data (i32.const 120) "/readonly/x")  ;; 11
  (data (i32.const 140) "/a//b")        ;; 5
  (data (i32.const 150) "/c")           ;; 2
  (data (i32.const 160) "/zz")          ;; 3
  (data (i32.const 170) "/e")           ;; 2
  (data (i32.const 180) "/readonly/kernel")  ;; 16
  (data (i32.const 200) "hello")        ;; 5
  (data (i32.const 210) "/h")           ;; 2
  (data (i32.const 220) "\01\ff")       ;; reveal payloads
  (func $r (param i32)
    (i32.store (i32.const 0) (local.get 0))
    (call $write_debug (i32.const 0) (i32.const 4)))
  (func (export "kernel_run")
    ;; read_input
    (call $r (call $read_input (i32.const 16) (i32.const 1024) (i32.const 4096)))  ;; 2 (SOL)
    (call $r (call $read_input (i32.const 65528) (i32.const 1024) (i32.const 10))) ;; -6 strict
    (call $r (call $read_input (i32.const 16) (i32.const 65526) (i32.const 10)))   ;; -6 strict
    (call $r (call $read_input (i32.const 16) (i32.const 1024) (i32.const -1)))    ;; -6
    (call $r (call $read_input (i32.const 16) (i32.const 1024) (i32.const 0)))     ;; 0 (IPL lost)
    (call $r (call $read_input (i32.const 16) (i32.const 1024) (i32.const 4096)))  ;; 2 (EOL)
    (call $r (call $read_input (i32.const 16) (i32.const 1024) (i32.const 4096)))  ;; 0 (empty)
    ;; write_output
    (call $r (call $write_output (i32.const 200) (i32.const 5)))     ;; 0
    (call $r (call $write_output (i32.const 200) (i32.const 4097)))  ;; -7
    (call $r (call $write_output (i32.const 65534) (i32.const 5)))   ;; -6
    (call $r (call $write_output (i32.const 200) (i32.const -1)))    ;; -8
    (call $write_debug (i32.const 65000) (i32.const 100000))         ;; never fails
    ;; store_write
    (call $r (call $store_write (i32.const 110) (i32.const 4) (i32.const 0) (i32.const 200) (i32.const 5)))   ;; 0
    (call $r (call $store_write (i32.const 110) (i32.const 4) (i32.const 6) (i32.const 200) (i32.const 1)))   ;; -4
    (call $r (call $store_write (i32.const 120) (i32.const 11) (i32.const 0) (i32.const 200) (i32.const 5)))  ;; -9
    (call $r (call $store_write (i32.const 110) (i32.const 241) (i32.const 0) (i32.const 200) (i32.const 5))) ;; -1
    (call $r (call $store_write (i32.const 140) (i32.const 5) (i32.const 0) (i32.const 200) (i32.const 5)))   ;; -2
    (call $r (call $store_write (i32.const 110) (i32.const 4) (i32.const 0) (i32.const 200) (i32.const 2049))) ;; -7
    (call $r (call $store_write (i32.const 110) (i32.const 4) (i32.const 0) (i32.const 65535) (i32.const 5))) ;; -6
    (call $r (call $store_write (i32.const 110) (i32.const 4) (i32.const 0) (i32.const 200) (i32.const -1)))  ;; -5
    (call $r (call $store_write (i32.const 120) (i32.const 11) (i32.const 0) (i32.const 65535) (i32.const 5))) ;; -6 before -9
    (call $r (call $store_write (i32.const 110) (i32.const -1) (i32.const 0) (i32.const 200) (i32.const 5)))  ;; -8
    (call $r (call $store_write (i32.const 65535) (i32.const 4) (i32.const 0) (i32.const 200) (i32.const 5))) ;; -6
    ;; store_read
    (call $r (call $store_read (i32.const 110) (i32.const 4) (i32.const 1) (i32.const 1024) (i32.const 10)))  ;; 4
    (call $r (call $store_read (i32.const 110) (i32.const 4) (i32.const 5) (i32.const 1024) (i32.const 10)))  ;; -4
    (call $r (call $store_read (i32.const 150) (i32.const 2) (i32.const 0) (i32.const 1024) (i32.const 10)))  ;; -3
    (call $r (call $store_read (i32.const 150) (i32.const 2) (i32.const 0) (i32.const 1024) (i32.const 2049))) ;; -7 before -3
    (call $r (call $store_read (i32.const 110) (i32.const 4) (i32.const 0) (i32.const 65535) (i32.const 4))) ;; -6
    (call $r (call $store_read (i32.const 110) (i32.const 4) (i32.const -1) (i32.const 1024) (i32.const 4))) ;; -4
    ;; store_value_size
    (call $r (call $store_value_size (i32.const 110) (i32.const 4)))  ;; 5
    (call $r (call $store_value_size (i32.const 150) (i32.const 2)))  ;; -3
    ;; store_has / store_exists / store_list_size
    (call $r (call $store_has (i32.const 100) (i32.const 2)))   ;; 2
    (call $r (call $store_has (i32.const 110) (i32.const 4)))   ;; 1
    (call $r (call $store_has (i32.const 150) (i32.const 2)))   ;; 0
    (call $r (call $store_exists (i32.const 100) (i32.const 2)))  ;; 1
    (call $r (call $store_exists (i32.const 150) (i32.const 2)))  ;; 0
    (call $r (i32.wrap_i64 (call $store_list_size (i32.const 100) (i32.const 2))))  ;; 1
    (drop (call $store_write (i32.const 100) (i32.const 2) (i32.const 0) (i32.const 200) (i32.const 1)))
    (call $r (call $store_has (i32.const 100) (i32.const 2)))   ;; 3
    (call $r (i32.wrap_i64 (call $store_list_size (i32.const 100) (i32.const 2))))  ;; 2
    (call $r (i32.wrap_i64 (call $store_list_size (i32.const 140) (i32.const 5))))  ;; -2
    ;; store_get_nth_key: children of /a are "" (value) and "b"; "@" sorts first
    (call $r (call $store_get_nth_key (i32.const 100) (i32.const 2) (i64.const 1) (i32.const 1024) (i32.const 10)))  ;; 1 ("b")
    (call $r (call $store_get_nth_key (i32.const 100) (i32.const 2) (i64.const 0) (i32.const 1024) (i32.const 10)))  ;; 0 ("")
    (call $r (call $store_get_nth_key (i32.const 100) (i32.const 2) (i64.const 2) (i32.const 1024) (i32.const 10)))  ;; -12
    (call $r (call $store_get_nth_key (i32.const 150) (i32.const 2) (i64.const 0) (i32.const 1024) (i32.const 10)))  ;; -10
    (call $r (call $store_get_nth_key (i32.const 100) (i32.const 2) (i64.const 1) (i32.const 65536) (i32.const 10))) ;; -6
    ;; store_copy / store_move
    (call $r (call $store_copy (i32.const 100) (i32.const 2) (i32.const 150) (i32.const 2)))  ;; 0
    (call $r (call $store_copy (i32.const 160) (i32.const 3) (i32.const 170) (i32.const 2)))  ;; -10
    (call $r (call $store_copy (i32.const 100) (i32.const 2) (i32.const 120) (i32.const 11))) ;; -9
    (call $r (call $store_copy (i32.const 160) (i32.const 3) (i32.const 120) (i32.const 11))) ;; -9 before -10
    (call $r (call $store_move (i32.const 150) (i32.const 2) (i32.const 170) (i32.const 2)))  ;; 0
    (call $r (call $store_move (i32.const 180) (i32.const 16) (i32.const 150) (i32.const 2))) ;; -9 (from read-only)
    (call $r (call $store_move (i32.const 160) (i32.const 3) (i32.const 150) (i32.const 2)))  ;; -10
    (call $r (call $store_exists (i32.const 150) (i32.const 2)))  ;; 0 (moved away)
    ;; store_delete / store_delete_value
    (call $r (call $store_delete (i32.const 170) (i32.const 2)))   ;; 0
    (call $r (call $store_delete (i32.const 170) (i32.const 2)))   ;; 0 (absent is fine)
    (call $r (call $store_delete (i32.const 120) (i32.const 11)))  ;; -9
    (call $r (call $store_delete_value (i32.const 100) (i32.const 2)))  ;; 0
    (call $r (call $store_has (i32.const 100) (i32.const 2)))      ;; 2
    (call $r (call $store_delete_value (i32.const 120) (i32.const 11))) ;; -9
    ;; store_create
    (call $r (call $store_create (i32.const 210) (i32.const 2) (i32.const 100)))  ;; 0
    (call $r (call $store_value_size (i32.const 210) (i32.const 2)))              ;; 100
    (call $r (call $store_create (i32.const 210) (i32.const 2) (i32.const 1)))    ;; -13
    (call $r (call $store_create (i32.const 150) (i32.const 2) (i32.const -1)))   ;; -5
    (call $r (call $store_create (i32.const 120) (i32.const 11) (i32.const 1)))   ;; -9
    ;; __internal_store_get_hash
    (call $r (call $store_get_hash (i32.const 100) (i32.const 2) (i32.const 1024) (i32.const 64)))  ;; 32
    (call $r (call $store_get_hash (i32.const 100) (i32.const 2) (i32.const 1024) (i32.const 4)))   ;; 4
    (call $r (call $store_get_hash (i32.const 160) (i32.const 3) (i32.const 1024) (i32.const 64)))  ;; -10
    (call $r (call $store_get_hash (i32.const 100) (i32.const 2) (i32.const 65535) (i32.const 64))) ;; -6
    ;; reveals
    (call $r (call $reveal_metadata (i32.const 1024) (i32.const 24)))   ;; 24
    (call $r (call $reveal_metadata (i32.const 1024) (i32.const 5)))    ;; 5
    (call $r (call $reveal_metadata (i32.const 65535) (i32.const 24)))  ;; -6
    (call $r (call $reveal_preimage (i32.const 200) (i32.const 32) (i32.const 1024) (i32.const 4096)))   ;; 0 (malformed)
    (call $r (call $reveal_preimage (i32.const 200) (i32.const 4097) (i32.const 1024) (i32.const 4096))) ;; -7
    (call $r (call $reveal_preimage (i32.const 65535) (i32.const 33) (i32.const 1024) (i32.const 4096))) ;; -6
    (call $r (call $reveal (i32.const 220) (i32.const 1) (i32.const 1024) (i32.const 4096)))   ;; 24 (metadata)
    (call $r (call $reveal (i32.const 221) (i32.const 1) (i32.const 1024) (i32.const 4096)))   ;; 0 (unknown tag)
    (call $r (call $reveal (i32.const 220) (i32.const 4097) (i32.const 1024) (i32.const 4096))) ;; -7
    (call $r (call $reveal (i32.const 65535) (i32.const 2) (i32.const 1024) (i32.const 4096)))  ;; -6
    (call $r (call $reveal (i32.const 220) (i32.const 1) (i32.const 65535) (i32.const 24)))     ;; -6
  ))
