;; A start definition (🪙), which wasisim does not support.
(component
  (import "f" (func $f))
  (start $f)
)
