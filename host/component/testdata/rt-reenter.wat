;; A component that lowers its own export and calls it from inside it
;; (through a table the fixup module fills): the call re-enters the
;; instance, which traps.
(component
  (core module $m
    (import "h" "again" (func $again (param i32) (result i32)))
    (func (export "run") (param i32) (result i32) (call $again (local.get 0))))
  (core module $shim
    (table (export "t") 1 funcref)
    (type $ft (func (param i32) (result i32)))
    (func (export "again") (param i32) (result i32) (call_indirect (type $ft) (local.get 0) (i32.const 0))))
  (core instance $s (instantiate $shim))
  (core instance $i (instantiate $m (with "h" (instance $s))))
  (func $run (param "x" u32) (result u32) (canon lift (core func $i "run")))
  (core func $low (canon lower (func $run)))
  (core module $fix
    (import "" "t" (table 1 funcref))
    (import "" "f" (func (param i32) (result i32)))
    (elem (i32.const 0) func 0))
  (core instance (instantiate $fix (with "" (instance (export "t" (table $s "t")) (export "f" (func $low))))))
  (export "run" (func $run))
)
