;; A guest that breaks the rule of a lent buffer: it starts an async
;; stream.write of "hello" into write-via-stream, and while the write is
;; pending it overwrites the buffer with "HELLO", puts "hello" back in a
;; later step, then cancels the write. What lands in the file depends on
;; where the host's copy out of the guest's memory falls: before the
;; overwrite or after it is undone ("hello"), between the two ("HELLO"),
;; or never, the cancel first (""). The tests use it to check
;; that partial-order reduction keeps every order of a guest's own
;; memory accesses and the host's copies through its buffers.
(component
  (import "wasi:filesystem/types@0.3.0" (instance $fs
    (export "descriptor" (type $d (sub resource)))
    (type $ec (variant (case "access") (case "bad-descriptor") (case "exist") (case "invalid") (case "io") (case "is-directory") (case "no-entry") (case "not-permitted") (case "read-only") (case "other" (option string))))
    (export "error-code" (type $ec-t (eq $ec)))
    (type $pf (flags "symlink-follow"))
    (export "path-flags" (type $pf-t (eq $pf)))
    (type $of (flags "create" "directory" "exclusive" "truncate"))
    (export "open-flags" (type $of-t (eq $of)))
    (type $df (flags "read" "write" "file-integrity-sync" "data-integrity-sync" "requested-write-sync" "mutate-directory"))
    (export "descriptor-flags" (type $df-t (eq $df)))
    (type $own-d (own $d))
    (type $borrow-d (borrow $d))
    (type $open-res (result $own-d (error $ec-t)))
    (export "[method]descriptor.open-at" (func async (param "self" $borrow-d) (param "path-flags" $pf-t) (param "path" string) (param "open-flags" $of-t) (param "flags" $df-t) (result $open-res)))
    (type $s (stream u8))
    (type $r (result (error $ec-t)))
    (type $fut (future $r))
    (export "[method]descriptor.write-via-stream" (func (param "self" $borrow-d) (param "data" $s) (param "offset" u64) (result $fut)))
  ))
  (alias export $fs "descriptor" (type $desc))
  (import "wasi:filesystem/preopens@0.3.0" (instance $pre
    (alias outer 1 $desc (type $d))
    (type $own-d (own $d))
    (export "get-directories" (func (result (list (tuple $own-d string)))))
  ))
  (core module $libc
    (memory (export "mem") 1)
    (global $bump (mut i32) (i32.const 4096))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1))) (i32.sub (i32.const 0) (local.get 2))))
      (global.set $bump (i32.add (local.get $p) (local.get 3)))
      (local.get $p))
  )
  (core instance $libc (instantiate $libc))
  (alias core export $libc "mem" (core memory $mem))
  (alias core export $libc "realloc" (core func $realloc))
  (alias export $fs "[method]descriptor.open-at" (func $open-at))
  (alias export $fs "[method]descriptor.write-via-stream" (func $write-via-stream))
  (alias export $pre "get-directories" (func $get-directories))
  (type $s (stream u8))
  (alias export $fs "error-code" (type $ec))
  (type $r (result (error $ec)))
  (type $fut (future $r))
  (core func $open-at-lower (canon lower (func $open-at) (memory $mem) (realloc $realloc)))
  (core func $wvs-lower (canon lower (func $write-via-stream)))
  (core func $gd-lower (canon lower (func $get-directories) (memory $mem) (realloc $realloc)))
  (core func $drop-desc (canon resource.drop $desc))
  (core func $stream-new (canon stream.new $s))
  (core func $stream-write (canon stream.write $s async (memory $mem)))
  (core func $stream-cancel-w (canon stream.cancel-write $s))
  (core func $stream-drop-w (canon stream.drop-writable $s))
  (core func $stream-drop-r (canon stream.drop-readable $s))
  (core func $future-read (canon future.read $fut (memory $mem) (realloc $realloc)))
  (core func $future-drop-r (canon future.drop-readable $fut))
  (type $run-result (result))
  (core func $task-return (canon task.return (result $run-result)))
  (core instance $h
    (export "open-at" (func $open-at-lower))
    (export "write-via-stream" (func $wvs-lower))
    (export "get-directories" (func $gd-lower))
    (export "drop-desc" (func $drop-desc))
    (export "stream-new" (func $stream-new))
    (export "stream-write" (func $stream-write))
    (export "stream-cancel-w" (func $stream-cancel-w))
    (export "stream-drop-w" (func $stream-drop-w))
    (export "stream-drop-r" (func $stream-drop-r))
    (export "future-read" (func $future-read))
    (export "future-drop-r" (func $future-drop-r))
    (export "task-return" (func $task-return))
  )
  (core module $main
    (import "libc" "mem" (memory 1))
    (import "h" "open-at" (func $open-at (param i32 i32 i32 i32 i32 i32 i32)))
    (import "h" "write-via-stream" (func $wvs (param i32 i32 i64) (result i32)))
    (import "h" "get-directories" (func $gd (param i32)))
    (import "h" "drop-desc" (func $drop-desc (param i32)))
    (import "h" "stream-new" (func $stream-new (result i64)))
    (import "h" "stream-write" (func $stream-write (param i32 i32 i32) (result i32)))
    (import "h" "stream-cancel-w" (func $stream-cancel-w (param i32) (result i32)))
    (import "h" "stream-drop-w" (func $stream-drop-w (param i32)))
    (import "h" "stream-drop-r" (func $stream-drop-r (param i32)))
    (import "h" "future-read" (func $future-read (param i32 i32) (result i32)))
    (import "h" "future-drop-r" (func $future-drop-r (param i32)))
    (import "h" "task-return" (func $task-return (param i32)))
    (data (i32.const 16) "f.txt")
    (data (i32.const 32) "hello")
    (func $check (param i32) (if (i32.eqz (local.get 0)) (then unreachable)))
    ;; Memory: 100 get-directories result (ptr, len); 120 open-at result;
    ;; 140 future value.
    (func (export "run") (local $root i32) (local $fd i32) (local $ends i64) (local $r i32) (local $w i32) (local $fut i32) (local $other i64)
      (call $gd (i32.const 100))
      (call $check (i32.ge_u (i32.load (i32.const 104)) (i32.const 1)))
      (local.set $root (i32.load (i32.load (i32.const 100))))
      ;; open-at(root, 0, "f.txt", create, write): result<descriptor> at 120.
      (call $open-at (local.get $root) (i32.const 0) (i32.const 16) (i32.const 5) (i32.const 1) (i32.const 2) (i32.const 120))
      (call $check (i32.eqz (i32.load8_u (i32.const 120))))
      (local.set $fd (i32.load (i32.const 124)))
      (local.set $ends (call $stream-new))
      (local.set $r (i32.wrap_i64 (local.get $ends)))
      (local.set $w (i32.wrap_i64 (i64.shr_u (local.get $ends) (i64.const 32))))
      (local.set $fut (call $wvs (local.get $fd) (local.get $r) (i64.const 0)))
      ;; Lend "hello" to an async write; it completes at once if the
      ;; host's reader is already waiting, else it is pending (BLOCKED).
      (if (i32.eq (call $stream-write (local.get $w) (i32.const 32) (i32.const 5)) (i32.const -1))
        (then
          ;; An unrelated call first, so that the overwrite is in a step
          ;; of its own, which touches nothing of the write's stream.
          (local.set $other (call $stream-new))
          ;; The bug: the buffer is the host's until the write ends.
          (i32.store (i32.const 32) (i32.const 0x4c4c4548)) ;; "HELL"
          (i32.store8 (i32.const 36) (i32.const 0x4f))      ;; "O"
          (call $stream-drop-r (i32.wrap_i64 (local.get $other)))
          ;; ... and puts it back, a step later: only a copy that falls
          ;; between the two sees "HELLO".
          (i32.store (i32.const 32) (i32.const 0x6c6c6568)) ;; "hell"
          (i32.store8 (i32.const 36) (i32.const 0x6f))      ;; "o"
          (call $stream-drop-w (i32.wrap_i64 (i64.shr_u (local.get $other) (i64.const 32))))
          (drop (call $stream-cancel-w (local.get $w)))))
      (call $stream-drop-w (local.get $w))
      ;; The future: COMPLETED, whatever landed.
      (call $check (i32.eqz (call $future-read (local.get $fut) (i32.const 140))))
      (call $future-drop-r (local.get $fut))
      (call $drop-desc (local.get $fd))
      (call $drop-desc (local.get $root))
      (call $task-return (i32.const 0)))
  )
  (core instance $main (instantiate $main (with "libc" (instance $libc)) (with "h" (instance $h))))
  (type $run-t (func async (result $run-result)))
  (alias core export $main "run" (core func $run-core))
  (func $run (type $run-t) (canon lift (core func $run-core) async))
  (instance $run-inst (export "run" (func $run)))
  (export "wasi:cli/run@0.3.0" (instance $run-inst))
)
