package ops

// The LSTM cell of FusedLSTM (docs/SEMANTICS.md §17), gate order i, f, c, o:
//
//	i = σ(x·W_i + h·U_i + b_i), f = σ(…), g = tanh(…), o = σ(…)
//	c_t = f ⊙ c_{t-1} + i ⊙ g
//	h_t = o ⊙ tanh(c_t)
//
// Buffers (processing order, see rnnBufs): gates holds i, f, g, o per step,
// cs the cell states, aux tanh(c_t).

// lstmForward runs the recurrence over gates that already hold the input
// projections (with the bias) and writes the output (N, T, 2H).
func lstmForward[T Float](op *fusedRNNKernel, bufs *rnnBufs[T], a *rnnArgs[T], out []T) {
	nh := op.n * op.h
	copy(bufs.hs[:nh], a.h0)
	copy(bufs.cs[:nh], a.c0)
	bufs.pu.Pack(false, op.h, 4*op.h, a.u, 4*op.h)
	if p := rnnWorkers(op.n); p > 1 {
		bufs.parallelSteps(rnnStepCall[T]{op: op, a: a, out: out}, p)
	} else {
		lstmSteps(op, bufs, a, out, 0, op.n)
	}
}

// lstmSteps runs every step for samples b0 ≤ b < b1.
func lstmSteps[T Float](op *fusedRNNKernel, bufs *rnnBufs[T], a *rnnArgs[T], out []T, b0, b1 int) {
	n, t, h := op.n, op.t, op.h
	g4, nh := 4*h, n*h
	hard := op.spec.HardSigmoid
	for s := 0; s < t; s++ {
		hp, hn := bufs.hs[s*nh:(s+1)*nh], bufs.hs[(s+1)*nh:(s+2)*nh]
		cp, cn := bufs.cs[s*nh:(s+1)*nh], bufs.cs[(s+1)*nh:(s+2)*nh]
		gs := bufs.gates[s*n*g4 : (s+1)*n*g4]
		tc := bufs.aux[s*nh : (s+1)*nh]
		keep := bufs.keep[s*n : (s+1)*n]
		bufs.pu.Gemm(false, b1-b0, 1, hp[b0*h:], h, 1, gs[b0*g4:], g4)
		for b := b0; b < b1; b++ {
			row := gs[b*g4 : (b+1)*g4]
			rnnSigmoid(row[:2*h], hard)
			rnnSigmoid(row[3*h:], hard)
			rnnTanhs(row[2*h : 3*h])
			hpr, hnr := hp[b*h:(b+1)*h], hn[b*h:(b+1)*h]
			cpr, cnr, tcr := cp[b*h:(b+1)*h], cn[b*h:(b+1)*h], tc[b*h:(b+1)*h]
			if keep[b] {
				cnr, tcr, hnr := cnr[:h], tcr[:h], hnr[:h]
				ig, fg, gg, og := row[:h], row[h:2*h], row[2*h:3*h], row[3*h:4*h]
				for j := range cnr {
					c := fg[j]*cpr[j] + ig[j]*gg[j]
					cnr[j], tcr[j] = c, c
				}
				rnnTanhs(tcr)
				for j, th := range tcr {
					hnr[j] = og[j] * th
				}
			} else {
				copy(hnr, hpr)
				copy(cnr, cpr)
			}
			o := out[(b*t+s)*2*h : (b*t+s+1)*2*h]
			copy(o[:h], hnr)
			copy(o[h:], cnr)
		}
	}
}

// lstmBackward runs back-propagation through time: it fills gb.dg with the
// gradients of the gate pre-activations (stacked over every step) and
// writes dh0, dc0 and drecurrent. The caller derives dx, dkernel and dbias.
func lstmBackward[T Float](op *fusedRNNKernel, bufs *rnnBufs[T], gb *rnnGradBufs[T], a *rnnArgs[T], dy []T, d *rnnGrads[T]) {
	gb.pt.Pack(true, 4*op.h, op.h, a.u, 4*op.h)
	if p := rnnWorkers(op.n); p > 1 {
		bufs.parallelSteps(rnnStepCall[T]{op: op, a: a, gb: gb, dy: dy, d: d}, p)
	} else {
		lstmBackSteps(op, bufs, gb, a, dy, d, 0, op.n)
	}
	h := op.h
	rnnGemm(true, false, h, 4*h, op.t*op.n, 1, bufs.hs, h, gb.dg, 4*h, 0, d.u, 4*h)
}

// lstmBackSteps runs the backward recurrence for samples b0 ≤ b < b1 and
// writes their rows of dh0 and dc0.
func lstmBackSteps[T Float](op *fusedRNNKernel, bufs *rnnBufs[T], gb *rnnGradBufs[T], a *rnnArgs[T], dy []T, d *rnnGrads[T], b0, b1 int) {
	n, t, h := op.n, op.t, op.h
	g4, nh := 4*h, n*h
	hard := op.spec.HardSigmoid
	dh, dhn, dc := gb.dh, gb.dhn, gb.dc
	clear(dh[b0*h : b1*h])
	clear(dc[b0*h : b1*h])
	for s := t - 1; s >= 0; s-- {
		cp := bufs.cs[s*nh : (s+1)*nh]
		gs := bufs.gates[s*n*g4 : (s+1)*n*g4]
		tc := bufs.aux[s*nh : (s+1)*nh]
		dg := gb.dg[s*n*g4 : (s+1)*n*g4]
		keep := bufs.keep[s*n : (s+1)*n]
		for b := b0; b < b1; b++ {
			dgr := dg[b*g4 : (b+1)*g4]
			dhr, dhnr, dcr := dh[b*h:(b+1)*h], dhn[b*h:(b+1)*h], dc[b*h:(b+1)*h]
			dyr := dy[(b*t+s)*2*h : (b*t+s+1)*2*h]
			for j := 0; j < h; j++ {
				dhr[j] += dyr[j]
				dcr[j] += dyr[h+j]
			}
			if !keep[b] {
				clear(dgr)
				copy(dhnr, dhr)
				continue // the cell gradient is carried over as it is
			}
			row, cpr, tcr := gs[b*g4:(b+1)*g4], cp[b*h:(b+1)*h], tc[b*h:(b+1)*h]
			for j := 0; j < h; j++ {
				i, f, g, o := row[j], row[h+j], row[2*h+j], row[3*h+j]
				th := tcr[j]
				dv := dhr[j]
				dct := dcr[j] + dv*o*(1-th*th)
				dgr[j] = dct * g * rnnDSigmoid(i, hard)
				dgr[h+j] = dct * cpr[j] * rnnDSigmoid(f, hard)
				dgr[2*h+j] = dct * i * (1 - g*g)
				dgr[3*h+j] = dv * th * rnnDSigmoid(o, hard)
				dcr[j] = dct * f
				dhnr[j] = 0
			}
		}
		gb.pt.Gemm(false, b1-b0, 1, dg[b0*g4:], g4, 1, dhn[b0*h:], h)
		dh, dhn = dhn, dh
	}
	copy(d.h0[b0*h:b1*h], dh[b0*h:b1*h])
	copy(d.c0[b0*h:b1*h], dc[b0*h:b1*h])
}
