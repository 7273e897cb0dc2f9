;; A memory to dirty and to check, for the reuse of memories: dirty grows
;; the memory by a page and fills all of it with a byte; nonzero grows it
;; to two pages if it has one and counts its bytes that are not zero;
;; offer leaves a write of 16 bytes of it pending on a stream nobody reads.
(component
  (core module $libc (memory (export "mem") 1))
  (core instance $libc (instantiate $libc))
  (alias core export $libc "mem" (core memory $mem))
  (type $s (stream u8))
  (core func $stream-new (canon stream.new $s))
  (core func $stream-write (canon stream.write $s async (memory $mem)))
  (core instance $h
    (export "stream-new" (func $stream-new))
    (export "stream-write" (func $stream-write)))
  (core module $m
    (import "libc" "mem" (memory 1))
    (import "h" "stream-new" (func $stream-new (result i64)))
    (import "h" "stream-write" (func $stream-write (param i32 i32 i32) (result i32)))
    (func (export "dirty") (param $b i32)
      (drop (memory.grow (i32.const 1)))
      (memory.fill (i32.const 0) (local.get $b) (i32.mul (memory.size) (i32.const 65536))))
    (func (export "nonzero") (result i32)
      (local $i i32) (local $n i32) (local $end i32)
      (if (i32.eq (memory.size) (i32.const 1))
        (then (drop (memory.grow (i32.const 1)))))
      (local.set $end (i32.mul (memory.size) (i32.const 65536)))
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
          (if (i32.load8_u (local.get $i))
            (then (local.set $n (i32.add (local.get $n) (i32.const 1)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (local.get $n))
    (func (export "offer")
      (local $w i32)
      (local.set $w (i32.wrap_i64 (i64.shr_u (call $stream-new) (i64.const 32))))
      ;; Nobody reads: the write stays pending (BLOCKED, -1).
      (if (i32.ne (call $stream-write (local.get $w) (i32.const 0) (i32.const 16)) (i32.const -1))
        (then unreachable)))
  )
  (core instance $i (instantiate $m (with "libc" (instance $libc)) (with "h" (instance $h))))
  (func (export "dirty") (param "b" u8) (canon lift (core func $i "dirty")))
  (func (export "nonzero") (result u32) (canon lift (core func $i "nonzero")))
  (func (export "offer") (canon lift (core func $i "offer")))
)
