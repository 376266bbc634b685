package vision

import (
	"fmt"
	"image"
	"math"
)

// Point2 is a sub-pixel image point.
type Point2 struct{ X, Y float64 }

// FivePoints reduces 68 iBUG landmarks to the five points of the ArcFace
// alignment convention, in that order: the image-left eye centre, the
// image-right eye centre, the nose tip, the image-left and image-right mouth
// corners.
func FivePoints(l []image.Point) ([5]Point2, error) {
	var out [5]Point2
	if len(l) != 68 {
		return out, fmt.Errorf("%w: alignment needs 68 landmarks, have %d", ErrImage, len(l))
	}
	eye := func(from int) Point2 {
		var p Point2
		for _, q := range l[from : from+6] {
			p.X += float64(q.X)
			p.Y += float64(q.Y)
		}
		return Point2{p.X / 6, p.Y / 6}
	}
	pt := func(i int) Point2 { return Point2{float64(l[i].X), float64(l[i].Y)} }
	out = [5]Point2{eye(36), eye(42), pt(30), pt(48), pt(54)}
	return out, nil
}

// Similarity is the transform x' = a·x − b·y + tx, y' = b·x + a·y + ty: a
// rotation, a uniform scale and a translation.
type Similarity struct{ A, B, TX, TY float64 }

// Apply maps p.
func (s Similarity) Apply(p Point2) Point2 {
	return Point2{s.A*p.X - s.B*p.Y + s.TX, s.B*p.X + s.A*p.Y + s.TY}
}

// Invert returns the inverse transform.
func (s Similarity) Invert() Similarity {
	d := s.A*s.A + s.B*s.B
	if d == 0 {
		return Similarity{}
	}
	a, b := s.A/d, -s.B/d
	return Similarity{A: a, B: b, TX: -(a*s.TX - b*s.TY), TY: -(b*s.TX + a*s.TY)}
}

// EstimateSimilarity returns the least-squares similarity mapping src onto
// dst (Umeyama's method without reflection, in closed form for 2-D).
func EstimateSimilarity(src, dst []Point2) (Similarity, error) {
	n := len(src)
	if n < 2 || n != len(dst) {
		return Similarity{}, fmt.Errorf("%w: %d source and %d target points", ErrImage, n, len(dst))
	}
	var ms, md Point2
	for i := range src {
		ms.X += src[i].X
		ms.Y += src[i].Y
		md.X += dst[i].X
		md.Y += dst[i].Y
	}
	ms.X, ms.Y, md.X, md.Y = ms.X/float64(n), ms.Y/float64(n), md.X/float64(n), md.Y/float64(n)
	var sxx, num1, num2 float64
	for i := range src {
		sx, sy := src[i].X-ms.X, src[i].Y-ms.Y
		dx, dy := dst[i].X-md.X, dst[i].Y-md.Y
		sxx += sx*sx + sy*sy
		num1 += sx*dx + sy*dy // a·|s|²
		num2 += sx*dy - sy*dx // b·|s|²
	}
	if sxx == 0 {
		return Similarity{}, fmt.Errorf("%w: degenerate landmarks", ErrImage)
	}
	a, b := num1/sxx, num2/sxx
	return Similarity{A: a, B: b, TX: md.X - (a*ms.X - b*ms.Y), TY: md.Y - (b*ms.X + a*ms.Y)}, nil
}

// WarpSimilarity renders the w×h image whose pixel (x, y) is img sampled at
// inv(x, y) (bilinear; black outside img). inv maps output to input
// coordinates, pixel centres at integer positions as in OpenCV's warpAffine.
func WarpSimilarity(img Image, inv Similarity, w, h int) Image {
	out := NewImage(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			p := inv.Apply(Point2{float64(x), float64(y)})
			x0, y0 := math.Floor(p.X), math.Floor(p.Y)
			ax, ay := p.X-x0, p.Y-y0
			ix, iy := int(x0), int(y0)
			o := (y*w + x) * 3
			for c := 0; c < 3; c++ {
				var v float64
				for k := 0; k < 4; k++ {
					sx, sy := ix+k%2, iy+k/2
					if sx < 0 || sy < 0 || sx >= img.W || sy >= img.H {
						continue
					}
					wx, wy := 1-ax, 1-ay
					if k%2 == 1 {
						wx = ax
					}
					if k/2 == 1 {
						wy = ay
					}
					v += wx * wy * float64(img.Pix[(sy*img.W+sx)*3+c])
				}
				out.Pix[o+c] = uint8(math.Min(255, v+0.5))
			}
		}
	}
	return out
}

// AlignFace warps img so that the face's landmarks land on template (in
// the output's w×h pixel coordinates): the aligned input of an embedding
// network trained with that template (e.g. the ArcFace 112×112 five points).
func AlignFace(img Image, landmarks []image.Point, template [5]Point2, w, h int) (Image, error) {
	src, err := FivePoints(landmarks)
	if err != nil {
		return Image{}, err
	}
	s, err := EstimateSimilarity(src[:], template[:])
	if err != nil {
		return Image{}, err
	}
	return WarpSimilarity(img, s.Invert(), w, h), nil
}

// Mirror returns img flipped left to right.
func Mirror(img Image) Image {
	out := NewImage(img.W, img.H)
	for y := 0; y < img.H; y++ {
		for x := 0; x < img.W; x++ {
			s, d := (y*img.W+x)*3, (y*img.W+img.W-1-x)*3
			copy(out.Pix[d:d+3], img.Pix[s:s+3])
		}
	}
	return out
}
