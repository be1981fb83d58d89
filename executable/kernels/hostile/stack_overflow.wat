;; Hostile: unbounded recursion. The call stack is exhausted: in the PVM
;; this is not a trap but a terminal stuck state.
(module
  (memory (export "memory") 1)
  (func $down (param i32) (result i32)
    (i32.add (call $down (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (func (export "kernel_run") (drop (call $down (i32.const 0)))))
