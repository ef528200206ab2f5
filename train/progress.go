package train

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// ProgressBar prints Keras's progress output: "Epoch 3/10", then a bar with
// the step count, ETA or time per step and the running loss and metrics,
// with the validation figures appended at the end of the epoch. Verbose 1
// redraws the bar in place on a terminal (and prints only the final bar
// elsewhere); verbose 2 prints one line per epoch.
type ProgressBar struct {
	BaseCallback
	W       io.Writer
	Verbose int

	params    Params
	steps     int
	start     time.Time
	lastDraw  time.Time
	dynamic   bool
	lastWidth int
}

// NewProgressBar writes to w (os.Stdout if nil) at the given verbosity.
func NewProgressBar(w io.Writer, verbose int) *ProgressBar {
	if w == nil {
		w = os.Stdout
	}
	return &ProgressBar{W: w, Verbose: verbose, dynamic: isTerminal(w)}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// OnTrainBegin records the number of steps.
func (p *ProgressBar) OnTrainBegin(_ *Model, params Params) { p.params = params }

// OnEpochBegin prints the epoch header.
func (p *ProgressBar) OnEpochBegin(epoch int) {
	p.start, p.lastDraw, p.steps, p.lastWidth = time.Now(), time.Time{}, 0, 0
	fmt.Fprintf(p.W, "Epoch %d/%d\n", epoch+1, p.params.Epochs)
}

// OnBatchEnd redraws the bar (verbose 1 on a terminal).
func (p *ProgressBar) OnBatchEnd(batch int, logs Logs) {
	p.steps = batch + 1
	if p.Verbose != 1 || !p.dynamic || p.steps >= p.params.Steps {
		return
	}
	now := time.Now()
	if now.Sub(p.lastDraw) < 50*time.Millisecond {
		return
	}
	p.lastDraw = now
	elapsed := now.Sub(p.start)
	eta := time.Duration(float64(elapsed) / float64(p.steps) * float64(p.params.Steps-p.steps))
	line := p.bar(p.steps) + " - ETA: " + formatETA(eta)
	if len(logs.Names) > 0 {
		line += " - " + logs.String()
	}
	p.draw(line)
}

// OnEpochEnd prints the final line of the epoch.
func (p *ProgressBar) OnEpochEnd(_ int, logs Logs) {
	elapsed := time.Since(p.start)
	steps := p.params.Steps
	perStep := formatPerStep(elapsed, steps)
	var line string
	switch p.Verbose {
	case 1:
		line = fmt.Sprintf("%s - %.0fs %s", p.bar(steps), elapsed.Seconds(), perStep)
	case 2:
		line = fmt.Sprintf("%d/%d - %.0fs - %s", steps, steps, elapsed.Seconds(), perStep)
	default:
		return
	}
	if len(logs.Names) > 0 {
		line += " - " + logs.String()
	}
	p.draw(line)
	fmt.Fprintln(p.W)
}

func (p *ProgressBar) draw(line string) {
	if p.dynamic {
		pad := ""
		if n := p.lastWidth - len(line); n > 0 {
			pad = strings.Repeat(" ", n)
		}
		fmt.Fprint(p.W, "\r"+line+pad)
		p.lastWidth = len(line)
		return
	}
	fmt.Fprint(p.W, line)
}

// bar draws "  32/94 [=========>....................]".
func (p *ProgressBar) bar(done int) string {
	total := p.params.Steps
	digits := len(fmt.Sprint(total))
	width := 30
	filled := 0
	if total > 0 {
		filled = width * done / total
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%*d/%d [", digits, done, total)
	if filled > 0 {
		b.WriteString(strings.Repeat("=", filled-1))
		if done < total {
			b.WriteByte('>')
		} else {
			b.WriteByte('=')
		}
	}
	b.WriteString(strings.Repeat(".", width-filled))
	b.WriteByte(']')
	return b.String()
}

func formatETA(d time.Duration) string {
	s := int(d.Seconds())
	switch {
	case s > 3600:
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s%3600/60, s%60)
	case s > 60:
		return fmt.Sprintf("%d:%02d", s/60, s%60)
	}
	return fmt.Sprintf("%ds", s)
}

func formatPerStep(elapsed time.Duration, steps int) string {
	if steps == 0 {
		return "0s/step"
	}
	per := elapsed.Seconds() / float64(steps)
	switch {
	case per >= 1:
		return fmt.Sprintf("%.0fs/step", per)
	case per >= 1e-3:
		return fmt.Sprintf("%.0fms/step", per*1e3)
	}
	return fmt.Sprintf("%.0fus/step", per*1e6)
}
