;; Hostile: uses floating point, which the PVM's decoder forbids: a decode
;; error (fallback kernel if there is one, else stuck forever).
(module
  (memory (export "memory") 1)
  (func (export "kernel_run")
    (i64.store (i32.const 0)
      (i64.reinterpret_f64 (f64.add (f64.const 1.5) (f64.const 2.25))))))
