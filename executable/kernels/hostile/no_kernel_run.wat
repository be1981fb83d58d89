;; Hostile: exports no kernel_run: the PVM is stuck forever (Invalid_state),
;; no fallback applies.
(module
  (memory (export "memory") 1)
  (func (export "main")))
