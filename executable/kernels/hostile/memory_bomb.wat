;; Hostile: grows memory one page at a time, touching each new page, until
;; memory.grow returns -1 (the store limit), then stores past the end:
;; a recoverable out-of-bounds trap.
(module
  (memory (export "memory") 1)
  (func (export "kernel_run")
    (local $pages i32)
    (loop $grow
      (local.set $pages (memory.grow (i32.const 1)))
      (if (i32.ne (local.get $pages) (i32.const -1))
        (then
          (i32.store8 (i32.mul (local.get $pages) (i32.const 65536)) (i32.const 1))
          (br $grow))))
    (i32.store (i32.mul (memory.size) (i32.const 65536)) (i32.const 1))))
