;; A component that instantiates a nested component twice, each instance
;; with its own core instance lowering the same host function: run(x)
;; calls the first with x, the second with what the first returned; each
;; adds 1 and calls slow, which doubles. run(x) = 4x + 6.
(component
  (import "test:host/api" (instance $api
    (export "slow" (func (param "n" u32) (result u32)))))
  (alias export $api "slow" (func $slow))
  (component $inner
    (import "slow" (func $slow (param "n" u32) (result u32)))
    (core func $slow-low (canon lower (func $slow)))
    (core instance $h (export "slow" (func $slow-low)))
    (core module $m
      (import "h" "slow" (func $slow (param i32) (result i32)))
      (func (export "run") (param i32) (result i32)
        (call $slow (i32.add (local.get 0) (i32.const 1)))))
    (core instance $i (instantiate $m (with "h" (instance $h))))
    (func (export "run") (param "x" u32) (result u32) (canon lift (core func $i "run"))))
  (instance $a (instantiate $inner (with "slow" (func $slow))))
  (instance $b (instantiate $inner (with "slow" (func $slow))))
  (alias export $a "run" (func $run-a))
  (alias export $b "run" (func $run-b))
  (core func $ra (canon lower (func $run-a)))
  (core func $rb (canon lower (func $run-b)))
  (core instance $oh (export "ra" (func $ra)) (export "rb" (func $rb)))
  (core module $outer
    (import "h" "ra" (func $ra (param i32) (result i32)))
    (import "h" "rb" (func $rb (param i32) (result i32)))
    (func (export "run") (param i32) (result i32)
      (call $rb (call $ra (local.get 0)))))
  (core instance $o (instantiate $outer (with "h" (instance $oh))))
  (func (export "run") (param "x" u32) (result u32) (canon lift (core func $o "run")))
)
