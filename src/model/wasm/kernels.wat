;; forecastd's numeric kernels in WebAssembly with 128-bit SIMD and relaxed
;; SIMD's fused multiply-add: the LSTM step forward and backward, the dense
;; head forward and backward, and Adam's update. The TypeScript kernels
;; (lstm.ts, dense.ts, optim.ts) compute the same and are the test oracle.
;;
;; Assembled by `deno task build:wasm` (tools/build_kernels.ts) into
;; kernels_wasm.ts; a test fails when that file is stale.
;;
;; Shape letters as in layout.ts: I_l = K - H input width, H hidden units,
;; K = H + I_l, O outputs. Every pointer is a byte address in the shared
;; memory that kernel_heap.ts owns; every size counts f32 values. Arithmetic
;; is f32 (the TypeScript kernels compute in f64 and round on every store):
;; sums differ in their last bits, see wasm_network_test.ts for the bounds.
;; relaxed_madd(a, b, c) = a·b + c, fused or not as the CPU does it.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; e^x, four lanes (Cephes' expf): x = n·ln2 + r with |r| <= ln2/2, e^r by
  ;; a degree-6 minimax polynomial, 2^n built in the exponent bits. x is
  ;; clamped to [-87, 88] so that 2^n stays a normal float; NaN stays NaN.
  ;; Relative error about 2e-7.
  (func $exp4 (param $x v128) (result v128)
    (local $n v128) (local $r v128) (local $p v128)
    (local.set $x
      (f32x4.pmax
        (f32x4.pmin (local.get $x) (v128.const f32x4 88 88 88 88))
        (v128.const f32x4 -87 -87 -87 -87)))
    (local.set $n
      (f32x4.nearest
        (f32x4.mul (local.get $x)
          (v128.const f32x4 1.44269504088896341 1.44269504088896341
                            1.44269504088896341 1.44269504088896341))))
    ;; r = x - n·ln2 with ln2 split in two (0.693359375 is exact in 10 bits)
    (local.set $r
      (f32x4.relaxed_nmadd (local.get $n)
        (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375)
        (local.get $x)))
    (local.set $r
      (f32x4.relaxed_nmadd (local.get $n)
        (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4)
        (local.get $r)))
    (local.set $p (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
    (local.set $p (f32x4.relaxed_madd (local.get $p) (local.get $r)
      (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
    (local.set $p (f32x4.relaxed_madd (local.get $p) (local.get $r)
      (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
    (local.set $p (f32x4.relaxed_madd (local.get $p) (local.get $r)
      (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
    (local.set $p (f32x4.relaxed_madd (local.get $p) (local.get $r)
      (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
    (local.set $p (f32x4.relaxed_madd (local.get $p) (local.get $r)
      (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
    ;; e^r = p·r² + r + 1
    (local.set $p
      (f32x4.relaxed_madd (local.get $p) (f32x4.mul (local.get $r) (local.get $r))
        (f32x4.add (local.get $r) (v128.const f32x4 1 1 1 1))))
    ;; times 2^n: (n + 127) << 23 is the bit pattern of 2^n
    (f32x4.mul (local.get $p)
      (i32x4.shl
        (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n)) (v128.const i32x4 127 127 127 127))
        (i32.const 23))))

  ;; σ(x) = 1 / (1 + e^-x)
  (func $sigmoid4 (param $x v128) (result v128)
    (f32x4.div (v128.const f32x4 1 1 1 1)
      (f32x4.add (v128.const f32x4 1 1 1 1) (call $exp4 (f32x4.neg (local.get $x))))))

  ;; tanh(x): 1 - 2 / (1 + e^2x) as activations.ts for |x| >= 0.625; below,
  ;; where that form loses the low bits of a small result to the rounding of
  ;; a value near 1, Cephes' tanhf polynomial x + x·z·P(z), z = x², which
  ;; keeps the relative error near one unit in the last place
  (func $tanh4 (param $x v128) (result v128)
    (local $z v128) (local $p v128)
    (local.set $z (f32x4.mul (local.get $x) (local.get $x)))
    (local.set $p (v128.const f32x4 -5.70498872745e-3 -5.70498872745e-3 -5.70498872745e-3 -5.70498872745e-3))
    (local.set $p (f32x4.relaxed_madd (local.get $p) (local.get $z)
      (v128.const f32x4 2.06390887954e-2 2.06390887954e-2 2.06390887954e-2 2.06390887954e-2)))
    (local.set $p (f32x4.relaxed_madd (local.get $p) (local.get $z)
      (v128.const f32x4 -5.37397155531e-2 -5.37397155531e-2 -5.37397155531e-2 -5.37397155531e-2)))
    (local.set $p (f32x4.relaxed_madd (local.get $p) (local.get $z)
      (v128.const f32x4 1.33314422036e-1 1.33314422036e-1 1.33314422036e-1 1.33314422036e-1)))
    (local.set $p (f32x4.relaxed_madd (local.get $p) (local.get $z)
      (v128.const f32x4 -3.33332819422e-1 -3.33332819422e-1 -3.33332819422e-1 -3.33332819422e-1)))
    (v128.bitselect
      (f32x4.relaxed_madd (f32x4.mul (local.get $p) (local.get $z)) (local.get $x) (local.get $x))
      (f32x4.sub (v128.const f32x4 1 1 1 1)
        (f32x4.div (v128.const f32x4 2 2 2 2)
          (f32x4.add (v128.const f32x4 1 1 1 1)
            (call $exp4 (f32x4.add (local.get $x) (local.get $x))))))
      (f32x4.lt (f32x4.abs (local.get $x)) (v128.const f32x4 0.625 0.625 0.625 0.625))))

  ;; one lane of each, for the last H mod 4 units
  (func $sigmoid1 (param $x f32) (result f32)
    (f32x4.extract_lane 0 (call $sigmoid4 (f32x4.splat (local.get $x)))))
  (func $tanh1 (param $x f32) (result f32)
    (f32x4.extract_lane 0 (call $tanh4 (f32x4.splat (local.get $x)))))

  ;; Sums of four vectors, one per lane: [Σa, Σb, Σc, Σd].
  (func $hsum4 (param $a v128) (param $b v128) (param $c v128) (param $d v128) (result v128)
    (local $ab v128) (local $cd v128)
    ;; ab = [a0+a2, b0+b2, a1+a3, b1+b3], cd likewise
    (local.set $ab
      (f32x4.add
        (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a) (local.get $b))
        (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a) (local.get $b))))
    (local.set $cd
      (f32x4.add
        (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $c) (local.get $d))
        (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $c) (local.get $d))))
    (f32x4.add
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $ab) (local.get $cd))
      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $ab) (local.get $cd))))

  ;; lstm_forward: one LSTM step, as lstm.ts's lstmForward, which also
  ;; assembles its input: xh (K) = [hPrev (H) | x (I_l)] is written first, so
  ;; h may be hPrev (a step in place) and x may be the layer below's h.
  ;; Writes act (4H) = [f | i | C̃ | o], c (H), tc (H) = tanh(c), h (H).
  ;; W (4H, K) row-major and b (4H), gate blocks [f | i | c | o].
  (func (export "lstm_forward")
    (param $act i32) (param $c i32) (param $tc i32) (param $h i32)
    (param $xh i32) (param $hPrev i32) (param $x i32) (param $cPrev i32)
    (param $W i32) (param $b i32) (param $H i32) (param $K i32)
    (local $rowBytes i32) (local $kEnd i32) (local $kVec i32) (local $k i32)
    (local $r i32) (local $rEnd i32) (local $w0 i32) (local $w1 i32) (local $w2 i32) (local $w3 i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $xv v128)
    (local $s0 f32) (local $s1 f32) (local $s2 f32) (local $s3 f32) (local $xs f32)
    (local $j i32) (local $jEnd i32) (local $jVec i32) (local $Hb i32)
    (local $f v128) (local $i v128) (local $g v128) (local $o v128) (local $cv v128) (local $t v128)
    (local $fs f32) (local $is f32) (local $gs f32) (local $os f32) (local $cs f32) (local $ts f32)
    (local.set $Hb (i32.shl (local.get $H) (i32.const 2)))
    (memory.copy (local.get $xh) (local.get $hPrev) (local.get $Hb))
    (memory.copy (i32.add (local.get $xh) (local.get $Hb)) (local.get $x)
      (i32.shl (i32.sub (local.get $K) (local.get $H)) (i32.const 2)))
    ;; z (4H) = W·xh + b, four rows at a time, each row four columns at a time
    (local.set $rowBytes (i32.shl (local.get $K) (i32.const 2)))
    (local.set $kEnd (local.get $rowBytes))
    (local.set $kVec (i32.and (local.get $rowBytes) (i32.const -16)))
    (local.set $rEnd (i32.shl (local.get $H) (i32.const 4)))
    (local.set $w0 (local.get $W))
    (loop $rows
      (local.set $w1 (i32.add (local.get $w0) (local.get $rowBytes)))
      (local.set $w2 (i32.add (local.get $w1) (local.get $rowBytes)))
      (local.set $w3 (i32.add (local.get $w2) (local.get $rowBytes)))
      (local.set $a0 (v128.const i64x2 0 0))
      (local.set $a1 (v128.const i64x2 0 0))
      (local.set $a2 (v128.const i64x2 0 0))
      (local.set $a3 (v128.const i64x2 0 0))
      (local.set $k (i32.const 0))
      (block $done
        (br_if $done (i32.eqz (local.get $kVec)))
        (loop $cols
          (local.set $xv (v128.load (i32.add (local.get $xh) (local.get $k))))
          (local.set $a0 (f32x4.relaxed_madd
            (v128.load (i32.add (local.get $w0) (local.get $k))) (local.get $xv) (local.get $a0)))
          (local.set $a1 (f32x4.relaxed_madd
            (v128.load (i32.add (local.get $w1) (local.get $k))) (local.get $xv) (local.get $a1)))
          (local.set $a2 (f32x4.relaxed_madd
            (v128.load (i32.add (local.get $w2) (local.get $k))) (local.get $xv) (local.get $a2)))
          (local.set $a3 (f32x4.relaxed_madd
            (v128.load (i32.add (local.get $w3) (local.get $k))) (local.get $xv) (local.get $a3)))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br_if $cols (i32.lt_u (local.get $k) (local.get $kVec)))))
      ;; the last K mod 4 columns
      (local.set $s0 (f32.const 0))
      (local.set $s1 (f32.const 0))
      (local.set $s2 (f32.const 0))
      (local.set $s3 (f32.const 0))
      (block $tailDone
        (loop $tail
          (br_if $tailDone (i32.ge_u (local.get $k) (local.get $kEnd)))
          (local.set $xs (f32.load (i32.add (local.get $xh) (local.get $k))))
          (local.set $s0 (f32.add (local.get $s0)
            (f32.mul (f32.load (i32.add (local.get $w0) (local.get $k))) (local.get $xs))))
          (local.set $s1 (f32.add (local.get $s1)
            (f32.mul (f32.load (i32.add (local.get $w1) (local.get $k))) (local.get $xs))))
          (local.set $s2 (f32.add (local.get $s2)
            (f32.mul (f32.load (i32.add (local.get $w2) (local.get $k))) (local.get $xs))))
          (local.set $s3 (f32.add (local.get $s3)
            (f32.mul (f32.load (i32.add (local.get $w3) (local.get $k))) (local.get $xs))))
          (local.set $k (i32.add (local.get $k) (i32.const 4)))
          (br $tail)))
      (v128.store (i32.add (local.get $act) (local.get $r))
        (f32x4.add
          (f32x4.add
            (call $hsum4 (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3))
            (v128.load (i32.add (local.get $b) (local.get $r))))
          (f32x4.replace_lane 3
            (f32x4.replace_lane 2
              (f32x4.replace_lane 1 (f32x4.splat (local.get $s0)) (local.get $s1))
              (local.get $s2))
            (local.get $s3))))
      (local.set $w0 (i32.add (local.get $w3) (local.get $rowBytes)))
      (local.set $r (i32.add (local.get $r) (i32.const 16)))
      (br_if $rows (i32.lt_u (local.get $r) (local.get $rEnd))))
    ;; the gates, cell and hidden state, four units at a time (byte offset j)
    (local.set $jEnd (local.get $Hb))
    (local.set $jVec (i32.and (local.get $Hb) (i32.const -16)))
    (local.set $j (i32.const 0))
    (block $vecDone
      (loop $units
        (br_if $vecDone (i32.ge_u (local.get $j) (local.get $jVec)))
        (local.set $r (i32.add (local.get $act) (local.get $j)))
        (local.set $f (call $sigmoid4 (v128.load (local.get $r))))
        (v128.store (local.get $r) (local.get $f))
        (local.set $r (i32.add (local.get $r) (local.get $Hb)))
        (local.set $i (call $sigmoid4 (v128.load (local.get $r))))
        (v128.store (local.get $r) (local.get $i))
        (local.set $r (i32.add (local.get $r) (local.get $Hb)))
        (local.set $g (call $tanh4 (v128.load (local.get $r))))
        (v128.store (local.get $r) (local.get $g))
        (local.set $r (i32.add (local.get $r) (local.get $Hb)))
        (local.set $o (call $sigmoid4 (v128.load (local.get $r))))
        (v128.store (local.get $r) (local.get $o))
        (local.set $cv (f32x4.relaxed_madd (local.get $f)
          (v128.load (i32.add (local.get $cPrev) (local.get $j)))
          (f32x4.mul (local.get $i) (local.get $g))))
        (local.set $t (call $tanh4 (local.get $cv)))
        (v128.store (i32.add (local.get $c) (local.get $j)) (local.get $cv))
        (v128.store (i32.add (local.get $tc) (local.get $j)) (local.get $t))
        (v128.store (i32.add (local.get $h) (local.get $j)) (f32x4.mul (local.get $o) (local.get $t)))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $units)))
    (block $scalarDone
      (loop $unit
        (br_if $scalarDone (i32.ge_u (local.get $j) (local.get $jEnd)))
        (local.set $r (i32.add (local.get $act) (local.get $j)))
        (local.set $fs (call $sigmoid1 (f32.load (local.get $r))))
        (f32.store (local.get $r) (local.get $fs))
        (local.set $r (i32.add (local.get $r) (local.get $Hb)))
        (local.set $is (call $sigmoid1 (f32.load (local.get $r))))
        (f32.store (local.get $r) (local.get $is))
        (local.set $r (i32.add (local.get $r) (local.get $Hb)))
        (local.set $gs (call $tanh1 (f32.load (local.get $r))))
        (f32.store (local.get $r) (local.get $gs))
        (local.set $r (i32.add (local.get $r) (local.get $Hb)))
        (local.set $os (call $sigmoid1 (f32.load (local.get $r))))
        (f32.store (local.get $r) (local.get $os))
        (local.set $cs (f32.add
          (f32.mul (local.get $fs) (f32.load (i32.add (local.get $cPrev) (local.get $j))))
          (f32.mul (local.get $is) (local.get $gs))))
        (local.set $ts (call $tanh1 (local.get $cs)))
        (f32.store (i32.add (local.get $c) (local.get $j)) (local.get $cs))
        (f32.store (i32.add (local.get $tc) (local.get $j)) (local.get $ts))
        (f32.store (i32.add (local.get $h) (local.get $j)) (f32.mul (local.get $os) (local.get $ts)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $unit))))

  ;; lstm_backward: one step back, as lstm.ts's lstmBackward, same argument
  ;; order. dh = dhIn (H) + dxh[0..H] (dL/dh_t from above and from step t+1),
  ;; then dxh (K) is overwritten with dL/d[h_{t-1}, x_t] and its last I_l
  ;; values are copied to dIn. Adds into dW (4H, K) and db (4H); dc (H) holds
  ;; dL/dC_t and is replaced by dL/dC_{t-1}; dz (4H) is scratch.
  (func (export "lstm_backward")
    (param $dxh i32) (param $dW i32) (param $db i32) (param $dz i32)
    (param $dhIn i32) (param $dc i32) (param $dIn i32)
    (param $act i32) (param $tc i32) (param $cPrev i32) (param $xh i32)
    (param $W i32) (param $H i32) (param $K i32)
    (local $Hb i32) (local $j i32) (local $jVec i32) (local $p i32)
    (local $f v128) (local $i v128) (local $g v128) (local $o v128) (local $t v128)
    (local $dh v128) (local $dcv v128) (local $one v128)
    (local $fs f32) (local $is f32) (local $gs f32) (local $os f32) (local $ts f32)
    (local $dhs f32) (local $dcs f32)
    (local $rowBytes i32) (local $kVec i32) (local $k i32) (local $r i32) (local $rEnd i32)
    (local $w0 i32) (local $w1 i32) (local $w2 i32) (local $w3 i32)
    (local $g0 i32) (local $g1 i32) (local $g2 i32) (local $g3 i32)
    (local $d0 v128) (local $d1 v128) (local $d2 v128) (local $d3 v128) (local $xv v128) (local $acc v128)
    (local $e0 f32) (local $e1 f32) (local $e2 f32) (local $e3 f32) (local $xs f32)
    (local.set $Hb (i32.shl (local.get $H) (i32.const 2)))
    (local.set $one (v128.const f32x4 1 1 1 1))
    ;; dz (4H) = [dz_f | dz_i | dz_c | dz_o], four units at a time
    (local.set $jVec (i32.and (local.get $Hb) (i32.const -16)))
    (block $vecDone
      (loop $units
        (br_if $vecDone (i32.ge_u (local.get $j) (local.get $jVec)))
        (local.set $p (i32.add (local.get $act) (local.get $j)))
        (local.set $f (v128.load (local.get $p)))
        (local.set $i (v128.load (i32.add (local.get $p) (local.get $Hb))))
        (local.set $g (v128.load (i32.add (local.get $p) (i32.shl (local.get $Hb) (i32.const 1)))))
        (local.set $o (v128.load (i32.add (local.get $p) (i32.mul (local.get $Hb) (i32.const 3)))))
        (local.set $t (v128.load (i32.add (local.get $tc) (local.get $j))))
        (local.set $dh (f32x4.add
          (v128.load (i32.add (local.get $dhIn) (local.get $j)))
          (v128.load (i32.add (local.get $dxh) (local.get $j)))))
        ;; dcj = dc + dh·o·(1 - t²)
        (local.set $dcv (f32x4.add (v128.load (i32.add (local.get $dc) (local.get $j)))
          (f32x4.mul (f32x4.mul (local.get $dh) (local.get $o))
            (f32x4.sub (local.get $one) (f32x4.mul (local.get $t) (local.get $t))))))
        (local.set $p (i32.add (local.get $dz) (local.get $j)))
        (v128.store (local.get $p)
          (f32x4.mul
            (f32x4.mul
              (f32x4.mul (local.get $dcv) (v128.load (i32.add (local.get $cPrev) (local.get $j))))
              (local.get $f))
            (f32x4.sub (local.get $one) (local.get $f))))
        (v128.store (i32.add (local.get $p) (local.get $Hb))
          (f32x4.mul (f32x4.mul (f32x4.mul (local.get $dcv) (local.get $g)) (local.get $i))
            (f32x4.sub (local.get $one) (local.get $i))))
        (v128.store (i32.add (local.get $p) (i32.shl (local.get $Hb) (i32.const 1)))
          (f32x4.mul (f32x4.mul (local.get $dcv) (local.get $i))
            (f32x4.sub (local.get $one) (f32x4.mul (local.get $g) (local.get $g)))))
        (v128.store (i32.add (local.get $p) (i32.mul (local.get $Hb) (i32.const 3)))
          (f32x4.mul (f32x4.mul (f32x4.mul (local.get $dh) (local.get $t)) (local.get $o))
            (f32x4.sub (local.get $one) (local.get $o))))
        (v128.store (i32.add (local.get $dc) (local.get $j)) (f32x4.mul (local.get $dcv) (local.get $f)))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $units)))
    ;; the last H mod 4 units, the same in scalar
    (block $scalarDone
      (loop $unit
        (br_if $scalarDone (i32.ge_u (local.get $j) (local.get $Hb)))
        (local.set $p (i32.add (local.get $act) (local.get $j)))
        (local.set $fs (f32.load (local.get $p)))
        (local.set $is (f32.load (i32.add (local.get $p) (local.get $Hb))))
        (local.set $gs (f32.load (i32.add (local.get $p) (i32.shl (local.get $Hb) (i32.const 1)))))
        (local.set $os (f32.load (i32.add (local.get $p) (i32.mul (local.get $Hb) (i32.const 3)))))
        (local.set $ts (f32.load (i32.add (local.get $tc) (local.get $j))))
        (local.set $dhs (f32.add
          (f32.load (i32.add (local.get $dhIn) (local.get $j)))
          (f32.load (i32.add (local.get $dxh) (local.get $j)))))
        (local.set $dcs (f32.add (f32.load (i32.add (local.get $dc) (local.get $j)))
          (f32.mul (f32.mul (local.get $dhs) (local.get $os))
            (f32.sub (f32.const 1) (f32.mul (local.get $ts) (local.get $ts))))))
        (local.set $p (i32.add (local.get $dz) (local.get $j)))
        (f32.store (local.get $p)
          (f32.mul
            (f32.mul
              (f32.mul (local.get $dcs) (f32.load (i32.add (local.get $cPrev) (local.get $j))))
              (local.get $fs))
            (f32.sub (f32.const 1) (local.get $fs))))
        (f32.store (i32.add (local.get $p) (local.get $Hb))
          (f32.mul (f32.mul (f32.mul (local.get $dcs) (local.get $gs)) (local.get $is))
            (f32.sub (f32.const 1) (local.get $is))))
        (f32.store (i32.add (local.get $p) (i32.shl (local.get $Hb) (i32.const 1)))
          (f32.mul (f32.mul (local.get $dcs) (local.get $is))
            (f32.sub (f32.const 1) (f32.mul (local.get $gs) (local.get $gs)))))
        (f32.store (i32.add (local.get $p) (i32.mul (local.get $Hb) (i32.const 3)))
          (f32.mul (f32.mul (f32.mul (local.get $dhs) (local.get $ts)) (local.get $os))
            (f32.sub (f32.const 1) (local.get $os))))
        (f32.store (i32.add (local.get $dc) (local.get $j)) (f32.mul (local.get $dcs) (local.get $fs)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $unit)))
    ;; dW += dz ⊗ xh, db += dz, dxh = Wᵀ·dz, four rows at a time
    (local.set $rowBytes (i32.shl (local.get $K) (i32.const 2)))
    (local.set $kVec (i32.and (local.get $rowBytes) (i32.const -16)))
    (memory.fill (local.get $dxh) (i32.const 0) (local.get $rowBytes))
    (local.set $rEnd (i32.shl (local.get $H) (i32.const 4)))
    (local.set $w0 (local.get $W))
    (local.set $g0 (local.get $dW))
    (loop $rows
      (local.set $w1 (i32.add (local.get $w0) (local.get $rowBytes)))
      (local.set $w2 (i32.add (local.get $w1) (local.get $rowBytes)))
      (local.set $w3 (i32.add (local.get $w2) (local.get $rowBytes)))
      (local.set $g1 (i32.add (local.get $g0) (local.get $rowBytes)))
      (local.set $g2 (i32.add (local.get $g1) (local.get $rowBytes)))
      (local.set $g3 (i32.add (local.get $g2) (local.get $rowBytes)))
      (local.set $d0 (v128.load (i32.add (local.get $dz) (local.get $r))))
      (v128.store (i32.add (local.get $db) (local.get $r))
        (f32x4.add (v128.load (i32.add (local.get $db) (local.get $r))) (local.get $d0)))
      (local.set $e0 (f32x4.extract_lane 0 (local.get $d0)))
      (local.set $e1 (f32x4.extract_lane 1 (local.get $d0)))
      (local.set $e2 (f32x4.extract_lane 2 (local.get $d0)))
      (local.set $e3 (f32x4.extract_lane 3 (local.get $d0)))
      (local.set $d0 (f32x4.splat (local.get $e0)))
      (local.set $d1 (f32x4.splat (local.get $e1)))
      (local.set $d2 (f32x4.splat (local.get $e2)))
      (local.set $d3 (f32x4.splat (local.get $e3)))
      (local.set $k (i32.const 0))
      (block $done
        (br_if $done (i32.eqz (local.get $kVec)))
        (loop $cols
          (local.set $xv (v128.load (i32.add (local.get $xh) (local.get $k))))
          (local.set $p (i32.add (local.get $g0) (local.get $k)))
          (v128.store (local.get $p) (f32x4.relaxed_madd (local.get $d0) (local.get $xv) (v128.load (local.get $p))))
          (local.set $p (i32.add (local.get $g1) (local.get $k)))
          (v128.store (local.get $p) (f32x4.relaxed_madd (local.get $d1) (local.get $xv) (v128.load (local.get $p))))
          (local.set $p (i32.add (local.get $g2) (local.get $k)))
          (v128.store (local.get $p) (f32x4.relaxed_madd (local.get $d2) (local.get $xv) (v128.load (local.get $p))))
          (local.set $p (i32.add (local.get $g3) (local.get $k)))
          (v128.store (local.get $p) (f32x4.relaxed_madd (local.get $d3) (local.get $xv) (v128.load (local.get $p))))
          (local.set $p (i32.add (local.get $dxh) (local.get $k)))
          (local.set $acc (f32x4.relaxed_madd
            (v128.load (i32.add (local.get $w0) (local.get $k))) (local.get $d0) (v128.load (local.get $p))))
          (local.set $acc (f32x4.relaxed_madd
            (v128.load (i32.add (local.get $w1) (local.get $k))) (local.get $d1) (local.get $acc)))
          (local.set $acc (f32x4.relaxed_madd
            (v128.load (i32.add (local.get $w2) (local.get $k))) (local.get $d2) (local.get $acc)))
          (local.set $acc (f32x4.relaxed_madd
            (v128.load (i32.add (local.get $w3) (local.get $k))) (local.get $d3) (local.get $acc)))
          (v128.store (local.get $p) (local.get $acc))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br_if $cols (i32.lt_u (local.get $k) (local.get $kVec)))))
      (block $tailDone
        (loop $tail
          (br_if $tailDone (i32.ge_u (local.get $k) (local.get $rowBytes)))
          (local.set $xs (f32.load (i32.add (local.get $xh) (local.get $k))))
          (local.set $p (i32.add (local.get $g0) (local.get $k)))
          (f32.store (local.get $p) (f32.add (f32.load (local.get $p)) (f32.mul (local.get $e0) (local.get $xs))))
          (local.set $p (i32.add (local.get $g1) (local.get $k)))
          (f32.store (local.get $p) (f32.add (f32.load (local.get $p)) (f32.mul (local.get $e1) (local.get $xs))))
          (local.set $p (i32.add (local.get $g2) (local.get $k)))
          (f32.store (local.get $p) (f32.add (f32.load (local.get $p)) (f32.mul (local.get $e2) (local.get $xs))))
          (local.set $p (i32.add (local.get $g3) (local.get $k)))
          (f32.store (local.get $p) (f32.add (f32.load (local.get $p)) (f32.mul (local.get $e3) (local.get $xs))))
          (local.set $p (i32.add (local.get $dxh) (local.get $k)))
          (f32.store (local.get $p)
            (f32.add (f32.load (local.get $p))
              (f32.add
                (f32.add
                  (f32.mul (f32.load (i32.add (local.get $w0) (local.get $k))) (local.get $e0))
                  (f32.mul (f32.load (i32.add (local.get $w1) (local.get $k))) (local.get $e1)))
                (f32.add
                  (f32.mul (f32.load (i32.add (local.get $w2) (local.get $k))) (local.get $e2))
                  (f32.mul (f32.load (i32.add (local.get $w3) (local.get $k))) (local.get $e3))))))
          (local.set $k (i32.add (local.get $k) (i32.const 4)))
          (br $tail)))
      (local.set $w0 (i32.add (local.get $w3) (local.get $rowBytes)))
      (local.set $g0 (i32.add (local.get $g3) (local.get $rowBytes)))
      (local.set $r (i32.add (local.get $r) (i32.const 16)))
      (br_if $rows (i32.lt_u (local.get $r) (local.get $rEnd))))
    ;; dL/dx_t to where it goes: the layer below's dhIn, or dX
    (memory.copy (local.get $dIn) (i32.add (local.get $dxh) (local.get $Hb))
      (i32.sub (local.get $rowBytes) (local.get $Hb))))

  ;; Σ a[k]·b[k] over n values, four lanes then the last n mod 4
  (func $dot (param $a i32) (param $b i32) (param $n i32) (result f32)
    (local $k i32) (local $kVec i32) (local $kEnd i32) (local $acc v128) (local $s f32)
    (local.set $kEnd (i32.shl (local.get $n) (i32.const 2)))
    (local.set $kVec (i32.and (local.get $kEnd) (i32.const -16)))
    (block $done
      (loop $cols
        (br_if $done (i32.ge_u (local.get $k) (local.get $kVec)))
        (local.set $acc (f32x4.relaxed_madd
          (v128.load (i32.add (local.get $a) (local.get $k)))
          (v128.load (i32.add (local.get $b) (local.get $k)))
          (local.get $acc)))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $cols)))
    (local.set $s
      (f32.add
        (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
        (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $k) (local.get $kEnd)))
        (local.set $s (f32.add (local.get $s)
          (f32.mul (f32.load (i32.add (local.get $a) (local.get $k)))
                   (f32.load (i32.add (local.get $b) (local.get $k))))))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $tail)))
    (local.get $s))

  ;; y (n) += a·x (n): y at y, x at x, four lanes then the last n mod 4
  (func $axpy (param $y i32) (param $a f32) (param $x i32) (param $n i32)
    (local $k i32) (local $kVec i32) (local $kEnd i32) (local $av v128) (local $p i32)
    (local.set $kEnd (i32.shl (local.get $n) (i32.const 2)))
    (local.set $kVec (i32.and (local.get $kEnd) (i32.const -16)))
    (local.set $av (f32x4.splat (local.get $a)))
    (block $done
      (loop $cols
        (br_if $done (i32.ge_u (local.get $k) (local.get $kVec)))
        (local.set $p (i32.add (local.get $y) (local.get $k)))
        (v128.store (local.get $p) (f32x4.relaxed_madd (local.get $av)
          (v128.load (i32.add (local.get $x) (local.get $k))) (v128.load (local.get $p))))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $cols)))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $k) (local.get $kEnd)))
        (local.set $p (i32.add (local.get $y) (local.get $k)))
        (f32.store (local.get $p) (f32.add (f32.load (local.get $p))
          (f32.mul (local.get $a) (f32.load (i32.add (local.get $x) (local.get $k))))))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $tail))))

  ;; dense_forward: y (O) = Wy·h + by, as dense.ts's denseForward; Wy (O, H).
  (func (export "dense_forward")
    (param $y i32) (param $h i32) (param $Wy i32) (param $by i32) (param $O i32) (param $H i32)
    (local $r i32) (local $rEnd i32) (local $row i32)
    (local.set $rEnd (i32.shl (local.get $O) (i32.const 2)))
    (local.set $row (local.get $Wy))
    (loop $rows
      (f32.store (i32.add (local.get $y) (local.get $r))
        (f32.add (f32.load (i32.add (local.get $by) (local.get $r)))
          (call $dot (local.get $row) (local.get $h) (local.get $H))))
      (local.set $row (i32.add (local.get $row) (i32.shl (local.get $H) (i32.const 2))))
      (local.set $r (i32.add (local.get $r) (i32.const 4)))
      (br_if $rows (i32.lt_u (local.get $r) (local.get $rEnd)))))

  ;; dense_backward, as dense.ts's denseBackward: dh (H) = Wyᵀ·dy
  ;; (overwritten), dWy += dy ⊗ h, dby += dy; rows whose dy is 0 are skipped.
  (func (export "dense_backward")
    (param $dh i32) (param $dWy i32) (param $dby i32) (param $dy i32)
    (param $h i32) (param $Wy i32) (param $O i32) (param $H i32)
    (local $r i32) (local $rEnd i32) (local $off i32) (local $d f32) (local $p i32)
    (memory.fill (local.get $dh) (i32.const 0) (i32.shl (local.get $H) (i32.const 2)))
    (local.set $rEnd (i32.shl (local.get $O) (i32.const 2)))
    (loop $rows
      (local.set $d (f32.load (i32.add (local.get $dy) (local.get $r))))
      (if (f32.ne (local.get $d) (f32.const 0))
        (then
          (local.set $p (i32.add (local.get $dby) (local.get $r)))
          (f32.store (local.get $p) (f32.add (f32.load (local.get $p)) (local.get $d)))
          (local.set $off (i32.mul (local.get $r) (local.get $H)))
          (call $axpy (i32.add (local.get $dWy) (local.get $off)) (local.get $d) (local.get $h) (local.get $H))
          (call $axpy (local.get $dh) (local.get $d) (i32.add (local.get $Wy) (local.get $off)) (local.get $H))))
      (local.set $r (i32.add (local.get $r) (i32.const 4)))
      (br_if $rows (i32.lt_u (local.get $r) (local.get $rEnd)))))

  ;; sum_squares: Σ a[k]² over n values, accumulated in f64 (two lanes of
  ;; each half of four), so a gradient norm is as exact as optim.ts's
  (func (export "sum_squares") (param $a i32) (param $n i32) (result f64)
    (local $k i32) (local $kVec i32) (local $kEnd i32) (local $v v128)
    (local $lo v128) (local $hi v128) (local $s f64) (local $x f64)
    (local.set $kEnd (i32.shl (local.get $n) (i32.const 2)))
    (local.set $kVec (i32.and (local.get $kEnd) (i32.const -16)))
    (block $done
      (loop $cols
        (br_if $done (i32.ge_u (local.get $k) (local.get $kVec)))
        (local.set $v (v128.load (i32.add (local.get $a) (local.get $k))))
        (local.set $lo (f64x2.relaxed_madd (f64x2.promote_low_f32x4 (local.get $v))
          (f64x2.promote_low_f32x4 (local.get $v)) (local.get $lo)))
        (local.set $v (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))
        (local.set $hi (f64x2.relaxed_madd (f64x2.promote_low_f32x4 (local.get $v))
          (f64x2.promote_low_f32x4 (local.get $v)) (local.get $hi)))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $cols)))
    (local.set $lo (f64x2.add (local.get $lo) (local.get $hi)))
    (local.set $s (f64.add (f64x2.extract_lane 0 (local.get $lo)) (f64x2.extract_lane 1 (local.get $lo))))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $k) (local.get $kEnd)))
        (local.set $x (f64.promote_f32 (f32.load (i32.add (local.get $a) (local.get $k)))))
        (local.set $s (f64.add (local.get $s) (f64.mul (local.get $x) (local.get $x))))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $tail)))
    (local.get $s))

  ;; adam_update: Adam's update of n parameters, as optim.ts's loop:
  ;;   g = grads·scale, m = β₁m + a1·g, v = β₂v + a2·g², p -= lrc1·m / (√(v·c2) + ε)
  ;; with a1 = 1 - β₁, a2 = 1 - β₂, lrc1 = lr / (1 - β₁ᵗ), c2 = 1 / (1 - β₂ᵗ).
  (func (export "adam_update")
    (param $params i32) (param $grads i32) (param $m i32) (param $v i32) (param $n i32)
    (param $scale f32) (param $b1 f32) (param $a1 f32) (param $b2 f32) (param $a2 f32)
    (param $lrc1 f32) (param $c2 f32) (param $eps f32)
    (local $k i32) (local $kVec i32) (local $kEnd i32) (local $p i32)
    (local $g v128) (local $mv v128) (local $vv v128)
    (local $gs f32) (local $ms f32) (local $vs f32)
    (local.set $kEnd (i32.shl (local.get $n) (i32.const 2)))
    (local.set $kVec (i32.and (local.get $kEnd) (i32.const -16)))
    (block $done
      (loop $vals
        (br_if $done (i32.ge_u (local.get $k) (local.get $kVec)))
        (local.set $g (f32x4.mul (v128.load (i32.add (local.get $grads) (local.get $k)))
          (f32x4.splat (local.get $scale))))
        (local.set $p (i32.add (local.get $m) (local.get $k)))
        (local.set $mv (f32x4.add
          (f32x4.mul (f32x4.splat (local.get $b1)) (v128.load (local.get $p)))
          (f32x4.mul (f32x4.splat (local.get $a1)) (local.get $g))))
        (v128.store (local.get $p) (local.get $mv))
        (local.set $p (i32.add (local.get $v) (local.get $k)))
        (local.set $vv (f32x4.add
          (f32x4.mul (f32x4.splat (local.get $b2)) (v128.load (local.get $p)))
          (f32x4.mul (f32x4.mul (f32x4.splat (local.get $a2)) (local.get $g)) (local.get $g))))
        (v128.store (local.get $p) (local.get $vv))
        (local.set $p (i32.add (local.get $params) (local.get $k)))
        (v128.store (local.get $p)
          (f32x4.sub (v128.load (local.get $p))
            (f32x4.div (f32x4.mul (f32x4.splat (local.get $lrc1)) (local.get $mv))
              (f32x4.add (f32x4.sqrt (f32x4.mul (local.get $vv) (f32x4.splat (local.get $c2))))
                (f32x4.splat (local.get $eps))))))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $vals)))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $k) (local.get $kEnd)))
        (local.set $gs (f32.mul (f32.load (i32.add (local.get $grads) (local.get $k))) (local.get $scale)))
        (local.set $p (i32.add (local.get $m) (local.get $k)))
        (local.set $ms (f32.add (f32.mul (local.get $b1) (f32.load (local.get $p)))
          (f32.mul (local.get $a1) (local.get $gs))))
        (f32.store (local.get $p) (local.get $ms))
        (local.set $p (i32.add (local.get $v) (local.get $k)))
        (local.set $vs (f32.add (f32.mul (local.get $b2) (f32.load (local.get $p)))
          (f32.mul (f32.mul (local.get $a2) (local.get $gs)) (local.get $gs))))
        (f32.store (local.get $p) (local.get $vs))
        (local.set $p (i32.add (local.get $params) (local.get $k)))
        (f32.store (local.get $p)
          (f32.sub (f32.load (local.get $p))
            (f32.div (f32.mul (local.get $lrc1) (local.get $ms))
              (f32.add (f32.sqrt (f32.mul (local.get $vs) (local.get $c2))) (local.get $eps)))))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $tail))))

  ;; Recursive least squares (rls.ts's Rls, float64), d features, J outputs:
  ;; P (d, d) symmetric, W (d, J), φ (d), Pφ (d) scratch.

  ;; rls_predict: out (J) = Wᵀ·φ, skipping features that are 0, as Rls.predict()
  (func (export "rls_predict")
    (param $out i32) (param $phi i32) (param $W i32) (param $d i32) (param $J i32)
    (local $k i32) (local $j i32) (local $f f64) (local $row i32) (local $Jb i32) (local $p i32)
    (local.set $Jb (i32.shl (local.get $J) (i32.const 3)))
    (memory.fill (local.get $out) (i32.const 0) (local.get $Jb))
    (local.set $row (local.get $W))
    (block $done
      (loop $features
        (br_if $done (i32.ge_u (local.get $k) (local.get $d)))
        (local.set $f (f64.load (i32.add (local.get $phi) (i32.shl (local.get $k) (i32.const 3)))))
        (if (f64.ne (local.get $f) (f64.const 0))
          (then
            (local.set $j (i32.const 0))
            (loop $outputs
              (local.set $p (i32.add (local.get $out) (local.get $j)))
              (f64.store (local.get $p) (f64.add (f64.load (local.get $p))
                (f64.mul (f64.load (i32.add (local.get $row) (local.get $j))) (local.get $f))))
              (local.set $j (i32.add (local.get $j) (i32.const 8)))
              (br_if $outputs (i32.lt_u (local.get $j) (local.get $Jb))))))
        (local.set $row (i32.add (local.get $row) (local.get $Jb)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $features))))

  ;; rls_update: one update from φ (d) and y (J), as Rls.update():
  ;;   Pφ = P·φ, denom = λ + φᵀ·Pφ, W[:, j] += Pφ·(y_j - W[:, j]ᵀ·φ) / denom,
  ;;   P = (P - (Pφ/denom) ⊗ Pφ) / lam, lam = 1 while a diagonal of P exceeds maxDiag
  ;; P's rows two values at a time (f64x2), then the last d mod 2.
  (func (export "rls_update")
    (param $P i32) (param $W i32) (param $Pphi i32) (param $phi i32) (param $y i32)
    (param $d i32) (param $J i32) (param $forgetting f64) (param $maxDiag f64)
    (local $i i32) (local $k i32) (local $j i32) (local $rowBytes i32) (local $kVec i32)
    (local $row i32) (local $acc v128) (local $s f64) (local $denom f64) (local $e f64)
    (local $diag f64) (local $lam f64) (local $ki v128) (local $kis f64) (local $lamv v128)
    (local $p i32) (local $Jb i32) (local $pred f64)
    (local.set $rowBytes (i32.shl (local.get $d) (i32.const 3)))
    (local.set $kVec (i32.and (local.get $rowBytes) (i32.const -16)))
    (local.set $Jb (i32.shl (local.get $J) (i32.const 3)))
    ;; Pφ and the denominator
    (local.set $denom (local.get $forgetting))
    (local.set $row (local.get $P))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $rowBytes)))
        (local.set $acc (v128.const i64x2 0 0))
        (local.set $k (i32.const 0))
        (block $vecDone
          (loop $cols
            (br_if $vecDone (i32.ge_u (local.get $k) (local.get $kVec)))
            (local.set $acc (f64x2.add (local.get $acc)
              (f64x2.mul (v128.load (i32.add (local.get $row) (local.get $k)))
                         (v128.load (i32.add (local.get $phi) (local.get $k))))))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $cols)))
        (local.set $s (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))
        (if (i32.lt_u (local.get $k) (local.get $rowBytes))
          (then
            (local.set $s (f64.add (local.get $s)
              (f64.mul (f64.load (i32.add (local.get $row) (local.get $k)))
                       (f64.load (i32.add (local.get $phi) (local.get $k))))))))
        (f64.store (i32.add (local.get $Pphi) (local.get $i)) (local.get $s))
        (local.set $denom (f64.add (local.get $denom)
          (f64.mul (f64.load (i32.add (local.get $phi) (local.get $i))) (local.get $s))))
        (local.set $row (i32.add (local.get $row) (local.get $rowBytes)))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $rows)))
    ;; every output's weights
    (block $outDone
      (loop $outputs
        (br_if $outDone (i32.ge_u (local.get $j) (local.get $Jb)))
        (local.set $pred (f64.const 0))
        (local.set $p (i32.add (local.get $W) (local.get $j)))
        (local.set $k (i32.const 0))
        (block $predDone
          (loop $feat
            (br_if $predDone (i32.ge_u (local.get $k) (local.get $rowBytes)))
            (local.set $pred (f64.add (local.get $pred)
              (f64.mul (f64.load (local.get $p)) (f64.load (i32.add (local.get $phi) (local.get $k))))))
            (local.set $p (i32.add (local.get $p) (local.get $Jb)))
            (local.set $k (i32.add (local.get $k) (i32.const 8)))
            (br $feat)))
        (local.set $e (f64.div
          (f64.sub (f64.load (i32.add (local.get $y) (local.get $j))) (local.get $pred))
          (local.get $denom)))
        (local.set $p (i32.add (local.get $W) (local.get $j)))
        (local.set $k (i32.const 0))
        (block $updDone
          (loop $feat2
            (br_if $updDone (i32.ge_u (local.get $k) (local.get $rowBytes)))
            (f64.store (local.get $p) (f64.add (f64.load (local.get $p))
              (f64.mul (f64.load (i32.add (local.get $Pphi) (local.get $k))) (local.get $e))))
            (local.set $p (i32.add (local.get $p) (local.get $Jb)))
            (local.set $k (i32.add (local.get $k) (i32.const 8)))
            (br $feat2)))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $outputs)))
    ;; the wind-up guard: no forgetting while a diagonal element is too large
    (local.set $i (i32.const 0))
    (local.set $p (local.get $P))
    (block $diagDone
      (loop $diagonal
        (br_if $diagDone (i32.ge_u (local.get $i) (local.get $d)))
        (local.set $diag (f64.max (local.get $diag) (f64.load (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.add (local.get $rowBytes) (i32.const 8))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $diagonal)))
    (local.set $lam (select (f64.const 1) (local.get $forgetting)
      (f64.gt (local.get $diag) (local.get $maxDiag))))
    (local.set $lamv (f64x2.splat (local.get $lam)))
    ;; P = (P - ki ⊗ Pφ) / lam, ki = Pφ_i / denom
    (local.set $i (i32.const 0))
    (local.set $row (local.get $P))
    (block $pDone
      (loop $prows
        (br_if $pDone (i32.ge_u (local.get $i) (local.get $rowBytes)))
        (local.set $kis (f64.div (f64.load (i32.add (local.get $Pphi) (local.get $i))) (local.get $denom)))
        (local.set $ki (f64x2.splat (local.get $kis)))
        (local.set $k (i32.const 0))
        (block $vecDone2
          (loop $pcols
            (br_if $vecDone2 (i32.ge_u (local.get $k) (local.get $kVec)))
            (local.set $p (i32.add (local.get $row) (local.get $k)))
            (v128.store (local.get $p)
              (f64x2.div
                (f64x2.sub (v128.load (local.get $p))
                  (f64x2.mul (local.get $ki) (v128.load (i32.add (local.get $Pphi) (local.get $k)))))
                (local.get $lamv)))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $pcols)))
        (if (i32.lt_u (local.get $k) (local.get $rowBytes))
          (then
            (local.set $p (i32.add (local.get $row) (local.get $k)))
            (f64.store (local.get $p)
              (f64.div
                (f64.sub (f64.load (local.get $p))
                  (f64.mul (local.get $kis) (f64.load (i32.add (local.get $Pphi) (local.get $k)))))
                (local.get $lam)))))
        (local.set $row (i32.add (local.get $row) (local.get $rowBytes)))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $prows)))))
