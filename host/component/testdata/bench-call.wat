;; A guest whose exports loop n times over one lowered host call, to
;; measure what a call from wasm to the host costs:
;;   nop-loop(n)        calls test:bench/api nop(i) (u32 -> u32, no
;;                      handle, no memory), returns the sum of the results;
;;   get-type-loop(n)   takes the first preopen (get-directories) and calls
;;                      wasi:filesystem [method]descriptor.get-type on it,
;;                      lowered synchronously; returns how many calls said
;;                      "directory";
;;   get-type-async(n)  the same, lowered async (the call returns at once
;;                      with status RETURNED: the host function does not
;;                      block).
(component
  (import "test:bench/api" (instance $api
    (export "nop" (func (param "x" u32) (result u32)))
  ))
  (import "wasi:filesystem/types@0.3.0" (instance $types
    (type $oname (option string))
    (type $ec (variant (case "access") (case "already") (case "bad-descriptor") (case "busy") (case "deadlock") (case "quota") (case "exist") (case "file-too-large") (case "illegal-byte-sequence") (case "in-progress") (case "interrupted") (case "invalid") (case "io") (case "is-directory") (case "loop") (case "too-many-links") (case "message-size") (case "name-too-long") (case "no-device") (case "no-entry") (case "no-lock") (case "insufficient-memory") (case "insufficient-space") (case "not-directory") (case "not-empty") (case "not-recoverable") (case "unsupported") (case "no-tty") (case "no-such-device") (case "overflow") (case "not-permitted") (case "pipe") (case "read-only") (case "invalid-seek") (case "text-file-busy") (case "cross-device") (case "other" $oname)))
    (export "error-code" (type $error-code (eq $ec)))
    (export "descriptor" (type $descriptor (sub resource)))
    (type $dt (variant (case "block-device") (case "character-device") (case "directory") (case "fifo") (case "symbolic-link") (case "regular-file") (case "socket") (case "other" $oname)))
    (export "descriptor-type" (type $descriptor-type (eq $dt)))
    (type $self (borrow $descriptor))
    (type $res (result $descriptor-type (error $error-code)))
    (type $get-type (func async (param "self" $self) (result $res)))
    (export "[method]descriptor.get-type" (func (type $get-type)))
  ))
  (alias export $types "descriptor" (type $descriptor))
  (import "wasi:filesystem/preopens@0.3.0" (instance $preopens
    (alias outer 1 $descriptor (type $d0))
    (export "descriptor" (type $d (eq $d0)))
    (type $own (own $d))
    (type $entry (tuple $own string))
    (type $entries (list $entry))
    (type $gd (func (result $entries)))
    (export "get-directories" (func (type $gd)))
  ))
  (core module $libc
    (memory (export "mem") 1)
    (global $bump (mut i32) (i32.const 4096))
    ;; A bump allocator: realloc(old, old-size, align, new-size).
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p
        (i32.and
          (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get 2))))
      (global.set $bump (i32.add (local.get $p) (local.get 3)))
      (local.get $p))
  )
  (core instance $libc (instantiate $libc))
  (alias core export $libc "mem" (core memory $mem))
  (alias core export $libc "realloc" (core func $realloc))
  (alias export $api "nop" (func $nop))
  (alias export $types "[method]descriptor.get-type" (func $get-type))
  (alias export $preopens "get-directories" (func $get-directories))
  (core func $nop-lower (canon lower (func $nop)))
  (core func $get-type-lower (canon lower (func $get-type) (memory $mem) (realloc $realloc)))
  (core func $get-type-async (canon lower (func $get-type) async (memory $mem) (realloc $realloc)))
  (core func $get-directories-lower (canon lower (func $get-directories) (memory $mem) (realloc $realloc)))
  (core func $desc-drop (canon resource.drop $descriptor))
  (core instance $h
    (export "nop" (func $nop-lower))
    (export "get-type" (func $get-type-lower))
    (export "get-type-async" (func $get-type-async))
    (export "get-directories" (func $get-directories-lower))
    (export "desc-drop" (func $desc-drop))
  )
  (core module $main
    (import "libc" "mem" (memory 1))
    (import "h" "nop" (func $nop (param i32) (result i32)))
    (import "h" "get-type" (func $get-type (param i32 i32)))
    (import "h" "get-type-async" (func $get-type-async (param i32 i32) (result i32)))
    (import "h" "get-directories" (func $get-directories (param i32)))
    (import "h" "desc-drop" (func $desc-drop (param i32)))
    ;; Memory: 64: get-directories' (ptr, len); 256: get-type's result
    ;; (discriminant at 256, descriptor-type case at 260).
    (func (export "nop-loop") (param $n i32) (result i32)
      (local $i i32) (local $sum i32)
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $sum (i32.add (local.get $sum) (call $nop (local.get $i))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (local.get $sum))
    ;; first-preopen returns the handle of the first preopened directory.
    (func $first-preopen (result i32)
      (call $get-directories (i32.const 64))
      (if (i32.eqz (i32.load (i32.const 68))) (then unreachable))
      (i32.load (i32.load (i32.const 64))))
    ;; dirs counts a get-type result at 256 that is ok(directory).
    (func $dirs (result i32)
      (i32.and
        (i32.eqz (i32.load8_u (i32.const 256)))
        (i32.eq (i32.load8_u (i32.const 260)) (i32.const 2))))
    (func (export "get-type-loop") (param $n i32) (result i32)
      (local $i i32) (local $fd i32) (local $dirs i32)
      (local.set $fd (call $first-preopen))
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (call $get-type (local.get $fd) (i32.const 256))
          (local.set $dirs (i32.add (local.get $dirs) (call $dirs)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (call $desc-drop (local.get $fd))
      (local.get $dirs))
    (func (export "get-type-async") (param $n i32) (result i32)
      (local $i i32) (local $fd i32) (local $dirs i32)
      (local.set $fd (call $first-preopen))
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          ;; RETURNED (2) with no subtask: anything else is unexpected.
          (if (i32.ne (call $get-type-async (local.get $fd) (i32.const 256)) (i32.const 2))
            (then unreachable))
          (local.set $dirs (i32.add (local.get $dirs) (call $dirs)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (call $desc-drop (local.get $fd))
      (local.get $dirs))
  )
  (core instance $main (instantiate $main (with "libc" (instance $libc)) (with "h" (instance $h))))
  (type $loop-t (func (param "n" u32) (result u32)))
  (func $nop-loop (type $loop-t) (canon lift (core func $main "nop-loop")))
  (func $get-type-loop (type $loop-t) (canon lift (core func $main "get-type-loop")))
  (func $get-type-async-loop (type $loop-t) (canon lift (core func $main "get-type-async")))
  (export "nop-loop" (func $nop-loop))
  (export "get-type-loop" (func $get-type-loop))
  (export "get-type-async" (func $get-type-async-loop))
)
