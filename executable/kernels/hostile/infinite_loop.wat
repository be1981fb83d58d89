;; Hostile: never returns from kernel_run. Ends when the tick budget (or the
;; emulator's fuel cap) runs out: stuck forever.
(module
  (memory (export "memory") 1)
  (func (export "kernel_run") (loop $forever (br $forever))))
