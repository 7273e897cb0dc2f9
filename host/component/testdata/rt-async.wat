;; A guest that exercises the runtime with host functions of its own
;; interface (no WASI): a synchronous call passing strings both ways (with
;; realloc), an async call of a host function that blocks (a subtask and
;; its event through a waitable set, delivered to a callback-lifted
;; export), and task.return. run(n) returns slow(n) + len(echo("hello")).
(component
  (import "test:host/api" (instance $api
    (export "echo" (func (param "s" string) (result string)))
    (export "slow" (func async (param "n" u32) (result u32)))
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
  (alias export $api "echo" (func $echo))
  (alias export $api "slow" (func $slow))
  (core func $echo-lower (canon lower (func $echo) (memory $mem) (realloc $realloc)))
  (core func $slow-lower (canon lower (func $slow) async (memory $mem)))
  (core func $ws-new (canon waitable-set.new))
  (core func $ws-drop (canon waitable-set.drop))
  (core func $join (canon waitable.join))
  (core func $task-return (canon task.return (result u32)))
  (core func $subtask-drop (canon subtask.drop))
  (core func $ctx-get (canon context.get i32 0))
  (core func $ctx-set (canon context.set i32 0))
  (core instance $h
    (export "echo" (func $echo-lower))
    (export "slow" (func $slow-lower))
    (export "ws-new" (func $ws-new))
    (export "ws-drop" (func $ws-drop))
    (export "join" (func $join))
    (export "task-return" (func $task-return))
    (export "subtask-drop" (func $subtask-drop))
    (export "ctx-get" (func $ctx-get))
    (export "ctx-set" (func $ctx-set))
  )
  (core module $main
    (import "libc" "mem" (memory 1))
    (import "h" "echo" (func $echo (param i32 i32 i32)))
    (import "h" "slow" (func $slow (param i32 i32) (result i32)))
    (import "h" "ws-new" (func $ws-new (result i32)))
    (import "h" "ws-drop" (func $ws-drop (param i32)))
    (import "h" "join" (func $join (param i32 i32)))
    (import "h" "task-return" (func $task-return (param i32)))
    (import "h" "subtask-drop" (func $subtask-drop (param i32)))
    (import "h" "ctx-get" (func $ctx-get (result i32)))
    (import "h" "ctx-set" (func $ctx-set (param i32)))
    (data (i32.const 16) "hello")
    ;; Memory: 64: echo's result (ptr, len); 96: slow's result; 128: echo length.
    (func (export "run") (param $n i32) (result i32)
      (local $status i32) (local $ws i32)
      (call $echo (i32.const 16) (i32.const 5) (i32.const 64))
      (i32.store (i32.const 128) (i32.load (i32.const 68)))
      (local.set $status (call $slow (local.get $n) (i32.const 96)))
      (if (i32.eq (i32.and (local.get $status) (i32.const 15)) (i32.const 2))
        (then
          (call $task-return (i32.add (i32.load (i32.const 96)) (i32.load (i32.const 128))))
          (return (i32.const 0))))
      (local.set $ws (call $ws-new))
      (call $join (i32.shr_u (local.get $status) (i32.const 4)) (local.get $ws))
      (call $ctx-set (local.get $ws))
      ;; WAIT on the set.
      (i32.or (i32.const 2) (i32.shl (local.get $ws) (i32.const 4))))
    (func (export "cb") (param $ev i32) (param $p1 i32) (param $p2 i32) (result i32)
      ;; Expect a SUBTASK event reporting RETURNED.
      (if (i32.ne (local.get $ev) (i32.const 1)) (then unreachable))
      (if (i32.ne (local.get $p2) (i32.const 2)) (then unreachable))
      (call $subtask-drop (local.get $p1))
      (call $ws-drop (call $ctx-get))
      (call $task-return (i32.add (i32.load (i32.const 96)) (i32.load (i32.const 128))))
      (i32.const 0))
    ;; The string echo returned, for the test to read.
    (func (export "echoed-ptr") (result i32) (i32.load (i32.const 64)))
  )
  (core instance $main (instantiate $main (with "libc" (instance $libc)) (with "h" (instance $h))))
  (type $run-t (func async (param "n" u32) (result u32)))
  (alias core export $main "run" (core func $run-core))
  (alias core export $main "cb" (core func $cb-core))
  (func $run (type $run-t) (canon lift (core func $run-core) async (callback $cb-core)))
  (export "run" (func $run))
)
