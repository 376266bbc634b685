package faceeval

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Curve is one line of a DET plot.
type Curve struct {
	Label  string
	Points []Point
}

// Panel is one DET chart: false-positive rate on a log x axis, false-
// negative rate on a log y axis.
type Panel struct {
	Title  string
	XLabel string
	YLabel string
	Curves []Curve
}

var palette = []color.RGBA{
	{0x1f, 0x77, 0xb4, 255}, {0xd6, 0x27, 0x28, 255}, {0x2c, 0xa0, 0x2c, 255}, {0xff, 0x7f, 0x0e, 255},
	{0x94, 0x67, 0xbd, 255}, {0x8c, 0x56, 0x4b, 255}, {0xe3, 0x77, 0xc2, 255}, {0x17, 0xbe, 0xcf, 255},
}

// Plot geometry.
const (
	panelW, panelH = 560, 460
	marginL        = 60
	marginR        = 16
	marginT        = 28
	marginB        = 44
	legendLine     = 15
	minDecade      = -5 // 1e-5 .. 1 on both axes
)

// WriteDET draws panels side by side as a PNG. Rates of 0 are drawn at the
// axis floor (1e-5).
func WriteDET(w io.Writer, panels []Panel) error {
	if len(panels) == 0 {
		return fmt.Errorf("faceeval: nothing to plot")
	}
	legend := 0
	for _, p := range panels {
		legend = max(legend, len(p.Curves))
	}
	H := panelH + legend*legendLine + 8
	img := image.NewRGBA(image.Rect(0, 0, panelW*len(panels), H))
	fill(img, img.Bounds(), color.RGBA{255, 255, 255, 255})
	for i, p := range panels {
		drawPanel(img, image.Pt(i*panelW, 0), p)
	}
	return png.Encode(w, img)
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

func text(img *image.RGBA, x, y int, s string, c color.RGBA) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

func line(img *image.RGBA, x0, y0, x1, y1 float64, c color.RGBA, thick int) {
	n := int(math.Max(math.Abs(x1-x0), math.Abs(y1-y0))) + 1
	for i := 0; i <= n; i++ {
		t := float64(i) / float64(n)
		x, y := int(math.Round(x0+t*(x1-x0))), int(math.Round(y0+t*(y1-y0)))
		for dx := 0; dx < thick; dx++ {
			for dy := 0; dy < thick; dy++ {
				if image.Pt(x+dx, y+dy).In(img.Bounds()) {
					img.SetRGBA(x+dx, y+dy, c)
				}
			}
		}
	}
}

func drawPanel(img *image.RGBA, o image.Point, p Panel) {
	x0, y0 := float64(o.X+marginL), float64(o.Y+marginT)
	pw, ph := float64(panelW-marginL-marginR), float64(panelH-marginT-marginB)
	toX := func(v float64) float64 {
		e := math.Log10(math.Max(v, math.Pow(10, minDecade)))
		return x0 + (e-minDecade)/(-minDecade)*pw
	}
	toY := func(v float64) float64 {
		e := math.Log10(math.Max(v, math.Pow(10, minDecade)))
		return y0 + ph - (e-minDecade)/(-minDecade)*ph
	}
	grey := color.RGBA{0xdd, 0xdd, 0xdd, 255}
	black := color.RGBA{0, 0, 0, 255}
	for e := minDecade; e <= 0; e++ {
		v := math.Pow(10, float64(e))
		line(img, toX(v), y0, toX(v), y0+ph, grey, 1)
		line(img, x0, toY(v), x0+pw, toY(v), grey, 1)
		lbl := fmt.Sprintf("1e%d", e)
		if e == 0 {
			lbl = "1"
		}
		text(img, int(toX(v))-10, int(y0+ph)+14, lbl, black)
		text(img, o.X+18, int(toY(v))+4, lbl, black)
	}
	line(img, x0, y0+ph, x0+pw, y0+ph, black, 1)
	line(img, x0, y0, x0, y0+ph, black, 1)
	text(img, o.X+marginL, o.Y+18, p.Title, black)
	text(img, int(x0+pw/2)-len(p.XLabel)*7/2, int(y0+ph)+32, p.XLabel, black)
	text(img, o.X+4, o.Y+marginT-6, p.YLabel, black)
	for i, c := range p.Curves {
		col := palette[i%len(palette)]
		for k := 1; k < len(c.Points); k++ {
			a, b := c.Points[k-1], c.Points[k]
			line(img, toX(a.FP), toY(a.FN), toX(b.FP), toY(b.FN), col, 2)
		}
		ly := o.Y + panelH + i*legendLine + 4
		fill(img, image.Rect(o.X+marginL, ly, o.X+marginL+18, ly+4), col)
		text(img, o.X+marginL+24, ly+6, c.Label, black)
	}
}
