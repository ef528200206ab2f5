package train

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"
)

// ProgressBar prints Keras's progress output: "Epoch 3/10", then a bar with
// the step count, ETA or time per step and the running loss and metrics,
// with the validation figures appended at the end of the epoch. Verbose 1
// redraws the bar in place on a terminal (and prints only the final bar
// elsewhere); verbose 2 prints one line per epoch.
//
// Outside Fit, in Evaluate and Predict (its TestHooks and PredictHooks), it
// prints Keras 3's bar: "4/4 ━━━━━━━━━━━━━━━━━━━━ 0s 2ms/step - loss:
// 0.3000" (Predict without values), or at verbose 2 "4/4 - 0s - 2ms/step -
// loss: 0.3000". During Fit the validation pass prints nothing of its own,
// as in Keras.
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
	training  bool // inside Fit: the test hooks are the validation's
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
func (p *ProgressBar) OnTrainBegin(_ *Model, params Params) { p.params, p.training = params, true }

// OnTrainEnd marks the end of Fit.
func (p *ProgressBar) OnTrainEnd(Logs) { p.training = false }

// OnTestBegin starts an evaluation's bar (outside Fit).
func (p *ProgressBar) OnTestBegin(_ *Model, params Params) {
	if !p.training {
		p.params, p.start, p.lastDraw, p.lastWidth = params, time.Now(), time.Time{}, 0
	}
}

// OnTestBatchBegin does nothing.
func (p *ProgressBar) OnTestBatchBegin(int) {}

// OnTestBatchEnd redraws an evaluation's bar (verbose 1 on a terminal).
func (p *ProgressBar) OnTestBatchEnd(batch int, logs Logs) {
	if !p.training {
		p.stepLine(batch+1, logs)
	}
}

// OnTestEnd prints an evaluation's final line.
func (p *ProgressBar) OnTestEnd(logs Logs) {
	if !p.training {
		p.endLine(logs)
	}
}

// OnPredictBegin starts a prediction's bar.
func (p *ProgressBar) OnPredictBegin(m *Model, params Params) { p.OnTestBegin(m, params) }

// OnPredictBatchBegin does nothing.
func (p *ProgressBar) OnPredictBatchBegin(int) {}

// OnPredictBatchEnd redraws a prediction's bar.
func (p *ProgressBar) OnPredictBatchEnd(batch int) { p.OnTestBatchEnd(batch, Logs{}) }

// OnPredictEnd prints a prediction's final line.
func (p *ProgressBar) OnPredictEnd() { p.OnTestEnd(Logs{}) }

// stepLine redraws Keras 3's bar after done of the steps, with the ETA.
func (p *ProgressBar) stepLine(done int, logs Logs) {
	if elapsed, eta, ok := p.due(done); ok {
		p.draw(withLogs(p.bar3(done)+" "+formatETA(eta)+" "+formatPerStep(elapsed, done), logs))
	}
}

// due reports whether the bar is redrawn after done of the steps (verbose 1
// on a terminal, at most every 50ms, not at the last step), with the time
// elapsed and the ETA.
func (p *ProgressBar) due(done int) (elapsed, eta time.Duration, ok bool) {
	if p.Verbose != 1 || !p.dynamic || (p.params.Steps > 0 && done >= p.params.Steps) {
		return 0, 0, false
	}
	now := time.Now()
	if now.Sub(p.lastDraw) < 50*time.Millisecond {
		return 0, 0, false
	}
	p.lastDraw = now
	elapsed = now.Sub(p.start)
	return elapsed, time.Duration(float64(elapsed) / float64(done) * float64(max(p.params.Steps-done, 0))), true
}

// endLine prints the final line of an evaluation or a prediction.
func (p *ProgressBar) endLine(logs Logs) {
	elapsed := time.Since(p.start)
	steps := p.params.Steps
	switch p.Verbose {
	case 1:
		p.draw(withLogs(fmt.Sprintf("%s %.0fs %s", p.bar3(steps), elapsed.Seconds(), formatPerStep(elapsed, steps)), logs))
	case 2:
		fmt.Fprint(p.W, withLogs(fmt.Sprintf("%d/%d - %.0fs - %s", steps, steps, elapsed.Seconds(), formatPerStep(elapsed, steps)), logs))
	default:
		return
	}
	fmt.Fprintln(p.W)
}

// bar3 draws Keras 3's bar: "12/94 ━━━━━━━━──────────────" (20 wide; the
// part not done yet, which Keras draws in grey, as thin lines).
func (p *ProgressBar) bar3(done int) string {
	total := p.params.Steps
	filled := 0
	if total > 0 {
		filled = 20 * done / total
	}
	return fmt.Sprintf("%*d/%d ", len(fmt.Sprint(total)), done, total) + strings.Repeat("━", filled) + strings.Repeat("─", 20-filled)
}

// withLogs appends " - " and the logs to line, when there are any.
func withLogs(line string, logs Logs) string {
	if len(logs.Names) == 0 {
		return line
	}
	return line + " - " + logs.String()
}

// OnEpochBegin prints the epoch header.
func (p *ProgressBar) OnEpochBegin(epoch int) {
	p.start, p.lastDraw, p.steps, p.lastWidth = time.Now(), time.Time{}, 0, 0
	fmt.Fprintf(p.W, "Epoch %d/%d\n", epoch+1, p.params.Epochs)
}

// OnBatchEnd redraws the bar (verbose 1 on a terminal).
func (p *ProgressBar) OnBatchEnd(batch int, logs Logs) {
	p.steps = batch + 1
	if elapsed, eta, ok := p.due(p.steps); ok {
		if p.params.Steps == 0 { // no ETA while the steps are unknown
			p.draw(withLogs(p.bar(p.steps)+" - "+formatPerStep(elapsed, p.steps), logs))
			return
		}
		p.draw(withLogs(p.bar(p.steps)+" - ETA: "+formatETA(eta), logs))
	}
}

// OnEpochEnd prints the final line of the epoch. When the steps per epoch
// were unknown (a Dataset's first pass), the epoch's count becomes the
// bar's total for the later epochs.
func (p *ProgressBar) OnEpochEnd(_ int, logs Logs) {
	elapsed := time.Since(p.start)
	if p.params.Steps == 0 {
		p.params.Steps = p.steps
	}
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
	p.draw(withLogs(line, logs))
	fmt.Fprintln(p.W)
}

func (p *ProgressBar) draw(line string) {
	if p.dynamic {
		pad := ""
		width := utf8.RuneCountInString(line)
		if n := p.lastWidth - width; n > 0 {
			pad = strings.Repeat(" ", n)
		}
		fmt.Fprint(p.W, "\r"+line+pad)
		p.lastWidth = width
		return
	}
	fmt.Fprint(p.W, line)
}

// bar draws "  32/94 [=========>....................]".
func (p *ProgressBar) bar(done int) string {
	total := p.params.Steps
	if total == 0 { // unknown until the end of a Dataset's first pass, as Keras shows it
		return fmt.Sprintf("%d/Unknown", done)
	}
	digits := len(fmt.Sprint(total))
	width := 30
	filled := width * done / total
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
