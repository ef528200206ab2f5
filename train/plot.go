package train

import (
	"image/color"
	"sort"
	"strings"

	"github.com/pkg/errors"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// SavePlot draws the training curves as a PNG at path: one panel for the
// losses (loss, val_loss, …) and one for every other logged value
// (accuracy, val_accuracy, …), against the epoch (1-based, as the progress
// bar counts).
func (h *History) SavePlot(path string) error {
	if len(h.Epochs) == 0 {
		return errors.New("SavePlot: the history is empty")
	}
	var losses, others []string
	for _, n := range h.Names {
		if strings.HasSuffix(n, "loss") {
			losses = append(losses, n)
		} else {
			others = append(others, n)
		}
	}
	panels := [][]string{losses}
	titles := []string{"loss"}
	if len(others) > 0 {
		panels = append(panels, others)
		titles = append(titles, "metrics")
	}
	const w, hgt = 6 * vg.Inch, 4 * vg.Inch
	img := vgimg.NewWith(vgimg.UseWH(w*vg.Length(len(panels)), hgt), vgimg.UseBackgroundColor(color.White))
	row := make([]*plot.Plot, len(panels))
	for i, names := range panels {
		p, err := h.panel(titles[i], names)
		if err != nil {
			return err
		}
		row[i] = p
	}
	tiles := draw.Tiles{Rows: 1, Cols: len(panels), PadX: vg.Millimeter * 6, PadTop: vg.Millimeter * 2,
		PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
	canvases := plot.Align([][]*plot.Plot{row}, tiles, draw.New(img))
	for i, p := range row {
		p.Draw(canvases[0][i])
	}
	f, err := createAtomic(path)
	if err != nil {
		return errors.Wrap(err, "SavePlot")
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.abort()
		return errors.Wrap(err, "SavePlot")
	}
	return errors.Wrap(f.commit(), "SavePlot")
}

// palette gives training and validation curves of one quantity related
// colours.
var palette = []color.Color{
	color.RGBA{R: 31, G: 119, B: 180, A: 255},
	color.RGBA{R: 255, G: 127, B: 14, A: 255},
	color.RGBA{R: 44, G: 160, B: 44, A: 255},
	color.RGBA{R: 214, G: 39, B: 40, A: 255},
	color.RGBA{R: 148, G: 103, B: 189, A: 255},
}

func (h *History) panel(title string, names []string) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "epoch"
	p.Legend.Top = title == "loss"
	sort.SliceStable(names, func(i, j int) bool {
		return strings.TrimPrefix(names[i], "val_") < strings.TrimPrefix(names[j], "val_")
	})
	for i, n := range names {
		pts := make(plotter.XYs, 0, len(h.Values[n]))
		for k, v := range h.Values[n] {
			pts = append(pts, plotter.XY{X: float64(h.Epochs[k] + 1), Y: v})
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return nil, errors.Wrapf(err, "SavePlot: %s", n)
		}
		line.Color = palette[i%len(palette)]
		line.Width = vg.Points(1.5)
		if strings.HasPrefix(n, "val_") {
			line.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		}
		p.Add(line)
		p.Legend.Add(n, line)
	}
	return p, nil
}
