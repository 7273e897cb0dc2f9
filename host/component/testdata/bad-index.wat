;; An alias of an export of instance 3 when only instance 0 exists.
(component
  (import "i" (instance (export "f" (func))))
  (alias export 3 "f" (func))
)
