package ops

// The GRU cell of FusedGRU (docs/SEMANTICS.md §16.2), gate order z, r, h:
//
//	reset_after:  z = σ(x·W_z + b_iz + h·U_z + b_rz)
//	              r = σ(x·W_r + b_ir + h·U_r + b_rr)
//	              h~ = tanh(x·W_h + b_ih + r ⊙ (h·U_h + b_rh))
//	reset_before: z = σ(x·W_z + b_z + h·U_z), r likewise,
//	              h~ = tanh(x·W_h + b_h + (r ⊙ h)·U_h)
//	h_t = z ⊙ h_{t-1} + (1 − z) ⊙ h~
//
// Buffers (processing order, see rnnBufs): gates holds z, r, h~ per step;
// aux holds h_{t-1}·U (+ b_r) (reset-after) or its z, r blocks and
// (r ⊙ h_{t-1})·U_h (reset-before); rh holds r ⊙ h_{t-1} (reset-before).

// gruForward runs the recurrence over gates that already hold the input
// projections (with the input bias) and writes the output (N, T, H).
func gruForward[T Float](op *fusedRNNKernel, bufs *rnnBufs[T], a *rnnArgs[T], out []T) {
	copy(bufs.hs[:op.n*op.h], a.h0)
	h, g3 := op.h, 3*op.h
	if op.spec.ResetAfter {
		bufs.pu.Pack(false, h, g3, a.u, g3)
	} else {
		bufs.pu.Pack(false, h, 2*h, a.u, g3)
		bufs.pu2.Pack(false, h, h, a.u[2*h:], g3)
	}
	if p := rnnWorkers(op.n); p > 1 {
		bufs.parallelSteps(rnnStepCall[T]{op: op, a: a, out: out}, p)
	} else {
		gruSteps(op, bufs, a, out, 0, op.n)
	}
}

// gruSteps runs every step for samples b0 ≤ b < b1.
func gruSteps[T Float](op *fusedRNNKernel, bufs *rnnBufs[T], a *rnnArgs[T], out []T, b0, b1 int) {
	n, t, h := op.n, op.t, op.h
	g3, nh, nb := 3*h, n*h, b1-b0
	hard := op.spec.HardSigmoid
	for s := 0; s < t; s++ {
		hp := bufs.hs[s*nh : (s+1)*nh]
		hn := bufs.hs[(s+1)*nh : (s+2)*nh]
		gs := bufs.gates[s*n*g3 : (s+1)*n*g3]
		hu := bufs.aux[s*n*g3 : (s+1)*n*g3]
		keep := bufs.keep[s*n : (s+1)*n]
		if op.spec.ResetAfter {
			var beta T
			if a.b != nil {
				brec := a.b[g3 : 2*g3]
				for b := b0; b < b1; b++ {
					copy(hu[b*g3:(b+1)*g3], brec)
				}
				beta = 1
			}
			bufs.pu.Gemm(false, nb, 1, hp[b0*h:], h, beta, hu[b0*g3:], g3)
			for b := b0; b < b1; b++ {
				row, hur := gs[b*g3:(b+1)*g3], hu[b*g3:(b+1)*g3]
				rnnAdd(row[:2*h], hur[:2*h])
				rnnSigmoid(row[:2*h], hard)
				for j := 0; j < h; j++ {
					row[2*h+j] += row[h+j] * hur[2*h+j]
				}
				rnnTanhs(row[2*h:])
				gruBlend(row, hp[b*h:(b+1)*h], hn[b*h:(b+1)*h], keep[b])
			}
		} else {
			rh := bufs.rh[s*nh : (s+1)*nh]
			bufs.pu.Gemm(false, nb, 1, hp[b0*h:], h, 0, hu[b0*g3:], g3)
			for b := b0; b < b1; b++ {
				row, hur := gs[b*g3:(b+1)*g3], hu[b*g3:(b+1)*g3]
				rnnAdd(row[:2*h], hur[:2*h])
				rnnSigmoid(row[:2*h], hard)
				rrow, hprow := rh[b*h:(b+1)*h], hp[b*h:(b+1)*h]
				for j := range rrow {
					rrow[j] = row[h+j] * hprow[j]
				}
			}
			bufs.pu2.Gemm(false, nb, 1, rh[b0*h:], h, 0, hu[b0*g3+2*h:], g3)
			for b := b0; b < b1; b++ {
				row, hur := gs[b*g3:(b+1)*g3], hu[b*g3:(b+1)*g3]
				for j := 0; j < h; j++ {
					row[2*h+j] += hur[2*h+j]
				}
				rnnTanhs(row[2*h:])
				gruBlend(row, hp[b*h:(b+1)*h], hn[b*h:(b+1)*h], keep[b])
			}
		}
		for b := b0; b < b1; b++ {
			copy(out[(b*t+s)*h:(b*t+s+1)*h], hn[b*h:(b+1)*h])
		}
	}
}

// gruBlend writes one sample's new state from its gates (z, r, h~): the
// blend of the old state and the candidate, or the old state when masked.
func gruBlend[T Float](row, hp, hn []T, keep bool) {
	if !keep {
		copy(hn, hp)
		return
	}
	h := len(hn)
	z, hh := row[:h], row[2*h:3*h]
	for j := range hn {
		hn[j] = z[j]*hp[j] + (1-z[j])*hh[j]
	}
}

// gruBackward runs back-propagation through time: it fills gb.dg with the
// gradients of the gate pre-activations on the input side (stacked over
// every step) and, for reset-after, gb.dgh with those of h_{t-1}·U + b_r;
// it writes dh0 and drecurrent. The caller derives dx, dkernel and dbias.
func gruBackward[T Float](op *fusedRNNKernel, bufs *rnnBufs[T], gb *rnnGradBufs[T], a *rnnArgs[T], dy []T, d *rnnGrads[T]) {
	if h, g3 := op.h, 3*op.h; op.spec.ResetAfter {
		gb.pt.Pack(true, g3, h, a.u, g3)
	} else {
		gb.pt.Pack(true, 2*h, h, a.u, g3)
		gb.pt2.Pack(true, h, h, a.u[2*h:], g3)
	}
	if p := rnnWorkers(op.n); p > 1 {
		bufs.parallelSteps(rnnStepCall[T]{op: op, a: a, gb: gb, dy: dy, d: d}, p)
	} else {
		gruBackSteps(op, bufs, gb, a, dy, d, 0, op.n)
	}
	h, g3, tn := op.h, 3*op.h, op.t*op.n
	if op.spec.ResetAfter {
		rnnGemm(true, false, h, g3, tn, 1, bufs.hs, h, gb.dgh, g3, 0, d.u, g3)
	} else {
		rnnGemm(true, false, h, 2*h, tn, 1, bufs.hs, h, gb.dg, g3, 0, d.u, g3)
		rnnGemm(true, false, h, h, tn, 1, bufs.rh, h, gb.dg[2*h:], g3, 0, d.u[2*h:], g3)
	}
}

// gruBackSteps runs the backward recurrence for samples b0 ≤ b < b1 and
// writes their rows of dh0.
func gruBackSteps[T Float](op *fusedRNNKernel, bufs *rnnBufs[T], gb *rnnGradBufs[T], a *rnnArgs[T], dy []T, d *rnnGrads[T], b0, b1 int) {
	n, t, h := op.n, op.t, op.h
	g3, nh, nb := 3*h, n*h, b1-b0
	hard := op.spec.HardSigmoid
	dh, dhn := gb.dh, gb.dhn
	clear(dh[b0*h : b1*h])
	for s := t - 1; s >= 0; s-- {
		hp := bufs.hs[s*nh : (s+1)*nh]
		gs := bufs.gates[s*n*g3 : (s+1)*n*g3]
		hu := bufs.aux[s*n*g3 : (s+1)*n*g3]
		dg := gb.dg[s*n*g3 : (s+1)*n*g3]
		keep := bufs.keep[s*n : (s+1)*n]
		for b := b0; b < b1; b++ {
			dhr, dyr := dh[b*h:(b+1)*h], dy[(b*t+s)*h:(b*t+s+1)*h]
			for j, v := range dyr {
				dhr[j] += v
			}
		}
		if op.spec.ResetAfter {
			dgh := gb.dgh[s*n*g3 : (s+1)*n*g3]
			for b := b0; b < b1; b++ {
				dgr, dghr := dg[b*g3:(b+1)*g3], dgh[b*g3:(b+1)*g3]
				dhr, dhnr := dh[b*h:(b+1)*h], dhn[b*h:(b+1)*h]
				if !keep[b] {
					clear(dgr)
					clear(dghr)
					copy(dhnr, dhr)
					continue
				}
				row, hur, hpr := gs[b*g3:(b+1)*g3], hu[b*g3:(b+1)*g3], hp[b*h:(b+1)*h]
				for j := 0; j < h; j++ {
					z, r, hh := row[j], row[h+j], row[2*h+j]
					dv := dhr[j]
					dah := dv * (1 - z) * (1 - hh*hh)
					daz := dv * (hpr[j] - hh) * rnnDSigmoid(z, hard)
					dar := dah * hur[2*h+j] * rnnDSigmoid(r, hard)
					dgr[j], dgr[h+j], dgr[2*h+j] = daz, dar, dah
					dghr[j], dghr[h+j], dghr[2*h+j] = daz, dar, dah*r
					dhnr[j] = dv * z
				}
			}
			gb.pt.Gemm(false, nb, 1, dgh[b0*g3:], g3, 1, dhn[b0*h:], h)
		} else {
			for b := b0; b < b1; b++ {
				dgr := dg[b*g3 : (b+1)*g3]
				dhr, dhnr := dh[b*h:(b+1)*h], dhn[b*h:(b+1)*h]
				if !keep[b] {
					clear(dgr)
					copy(dhnr, dhr)
					continue
				}
				row, hpr := gs[b*g3:(b+1)*g3], hp[b*h:(b+1)*h]
				for j := 0; j < h; j++ {
					z, hh := row[j], row[2*h+j]
					dv := dhr[j]
					dgr[j] = dv * (hpr[j] - hh) * rnnDSigmoid(z, hard)
					dgr[2*h+j] = dv * (1 - z) * (1 - hh*hh)
					dhnr[j] = dv * z
				}
			}
			// d(r ⊙ h_{t-1}) = dA_h · U_hᵀ, then through r and h_{t-1}.
			drh := gb.tmp
			gb.pt2.Gemm(false, nb, 1, dg[b0*g3+2*h:], g3, 0, drh[b0*h:], h)
			for b := b0; b < b1; b++ {
				if !keep[b] {
					continue
				}
				row, dgr := gs[b*g3:(b+1)*g3], dg[b*g3:(b+1)*g3]
				hpr, dhnr, drhr := hp[b*h:(b+1)*h], dhn[b*h:(b+1)*h], drh[b*h:(b+1)*h]
				for j := 0; j < h; j++ {
					r := row[h+j]
					dgr[h+j] = drhr[j] * hpr[j] * rnnDSigmoid(r, hard)
					dhnr[j] += drhr[j] * r
				}
			}
			gb.pt.Gemm(false, nb, 1, dg[b0*g3:], g3, 1, dhn[b0*h:], h)
		}
		dh, dhn = dhn, dh
	}
	copy(d.h0[b0*h:b1*h], dh[b0*h:b1*h])
}
