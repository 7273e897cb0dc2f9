;; An alias that takes a type export as a func.
(component
  (import "i" (instance $i (export "t" (type (sub resource)))))
  (alias export $i "t" (func))
)
